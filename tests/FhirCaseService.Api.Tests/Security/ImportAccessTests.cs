using System.Net;
using FhirCaseService.Api.Tests.Import;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>
/// Bulk import with authorization on: an EHR's write scopes start it, a registry's read scopes do not, a per-type write
/// scope refuses the other types' lines, and a job and its error file belong to the client that started it.
/// </summary>
public sealed class ImportAccessTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    private readonly ImportTestClient _client = new(host);

    [Fact]
    public async Task A_write_only_client_imports_and_only_it_can_see_the_job_and_its_error_file()
    {
        using var ehr = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.cu", "ehr-import"));
        using var other = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.cu", "ehr-other"));
        using var anonymous = host.ClientWithToken(null);

        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient("secured-1"), "not json"]), via: ehr);
        Assert.True(kickOff.Status == HttpStatusCode.Accepted, $"{kickOff.Status}: {kickOff.Body}");
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!, via: ehr);
        Assert.True(manifest.Root.GetProperty("requiresAccessToken").GetBoolean());
        var errorFile = ImportTestClient.OnThisHost(manifest.Errors[0].Url);
        var status = ImportTestClient.OnThisHost(kickOff.StatusUrl!);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(status)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(errorFile)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.DeleteAsync(status)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(status)).StatusCode);
        Assert.Single(await _client.ErrorsAsync(manifest, via: ehr));
    }

    [Fact]
    public async Task A_read_only_client_cannot_import()
    {
        using var registry = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", "registry-import"));

        var refused = await _client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient("never")]), via: registry);

        ImportTestClient.AssertOperationOutcome(HttpStatusCode.Forbidden, refused, "does not grant");
    }

    [Fact]
    public async Task A_per_type_write_scope_stores_its_type_and_refuses_the_other_lines()
    {
        using var patientsOnly = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/Patient.cu", "ehr-patients"));

        var kickOff = await _client.KickOffAsync(ImportTestClient.Ndjson([
            ImportTestClient.Patient("scoped-1"),
            ImportTestClient.Observation(null, "scoped-1"),
        ]), via: patientsOnly);
        var manifest = await _client.WaitForManifestAsync(kickOff.StatusUrl!, via: patientsOnly);
        var errors = await _client.ErrorsAsync(manifest, via: patientsOnly);

        Assert.Equal(1L, manifest.Output("Patient").Count);
        Assert.Equal(0L, manifest.Output("Observation").Count);
        var refusal = Assert.Single(errors);
        Assert.Equal(2, ImportTestClient.LineOf(refusal));
        Assert.Equal(OperationOutcome.IssueType.Forbidden, refusal.Issue[0].Code);
    }
}
