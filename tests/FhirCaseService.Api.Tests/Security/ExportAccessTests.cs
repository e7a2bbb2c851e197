using System.Net;
using System.Text.Json;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>
/// Bulk export with authorization on: a registry's read scopes start it, an EHR's write scopes do not, a scope must
/// cover every exported type, and a job and its files belong to the client that started it.
/// </summary>
public sealed class ExportAccessTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static HttpRequestMessage KickOff(string query) => new(HttpMethod.Get, "/$export" + query)
    {
        Headers = { { "Prefer", "respond-async" }, { "Accept", "application/fhir+json" } },
    };

    private async Task<Uri> StartAsync(HttpClient client, string query)
    {
        using var response = await client.SendAsync(KickOff(query));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return response.Content.Headers.ContentLocation ?? response.Headers.Location ?? new Uri(response.Headers.GetValues("Content-Location").Single());
    }

    private static async Task<JsonDocument> ManifestAsync(HttpClient client, Uri status)
    {
        var deadline = DateTimeOffset.UtcNow + Timeout;
        while (true)
        {
            using var response = await client.GetAsync(status);
            if (response.StatusCode == HttpStatusCode.OK)
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.True(DateTimeOffset.UtcNow < deadline, "the export did not complete in time");
            await Task.Delay(100);
        }
    }

    private async Task SeedPatientAsync()
    {
        using var ehr = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.cu", "ehr-seeding"));
        using var created = await ehr.PostAsync("/Patient", SecuredServiceHost.Json("{\"resourceType\":\"Patient\",\"gender\":\"female\"}"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task A_registry_exports_and_only_it_can_see_the_job_and_fetch_its_files()
    {
        await SeedPatientAsync();
        using var owner = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", "registry-a"));
        using var other = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", "registry-b"));
        using var anonymous = host.ClientWithToken(null);

        var status = await StartAsync(owner, "?_type=Patient");
        using var manifest = await ManifestAsync(owner, status);
        Assert.True(manifest.RootElement.GetProperty("requiresAccessToken").GetBoolean());
        var file = new Uri(manifest.RootElement.GetProperty("output")[0].GetProperty("url").GetString()!);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(status)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(file)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync(status)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(file)).StatusCode);
        using var download = await owner.GetAsync(file);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Contains("\"resourceType\":\"Patient\"", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ehr_client_that_may_only_write_cannot_export()
    {
        using var ehr = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.cu", "ehr-export"));

        using var response = await ehr.SendAsync(KickOff(""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("insufficient_scope", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scope_must_cover_every_exported_type()
    {
        using var patientsOnly = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/Patient.rs", "registry-patients"));

        using var refused = await patientsOnly.SendAsync(KickOff("?_type=Patient,Observation"));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("Observation", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);

        await StartAsync(patientsOnly, "?_type=Patient");
    }
}
