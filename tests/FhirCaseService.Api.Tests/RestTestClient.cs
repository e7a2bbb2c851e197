using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary>An answer of the service: status, headers and body, parsed strictly on demand.</summary>
public sealed record FhirResponse(HttpStatusCode Status, HttpResponseHeaders Headers, HttpContentHeaders? ContentHeaders, string Body)
{
    public T As<T>() where T : Resource => FhirSerialization.StrictJson.Deserialize<T>(Body);

    public string? ETag => Headers.ETag?.ToString();

    public string? Location => Headers.Location?.ToString();

    public DateTimeOffset? LastModified => ContentHeaders?.LastModified;

    public IReadOnlyList<OperationOutcome.IssueComponent> Issues => As<OperationOutcome>().Issue;
}

/// <summary>The FHIR REST calls the interaction tests make, over a plain HttpClient to the real socket.</summary>
public sealed class RestTestClient(ServiceHost host)
{
    public HttpClient Http => host.Client;

    public Task<FhirResponse> GetAsync(string path, Action<HttpRequestHeaders>? headers = null) =>
        SendAsync(HttpMethod.Get, path, (string?)null, headers);

    public Task<FhirResponse> PostAsync(string path, Resource resource, Action<HttpRequestHeaders>? headers = null) =>
        SendAsync(HttpMethod.Post, path, FhirSerialization.ToJson(resource), headers);

    public Task<FhirResponse> PutAsync(string path, Resource resource, Action<HttpRequestHeaders>? headers = null) =>
        SendAsync(HttpMethod.Put, path, FhirSerialization.ToJson(resource), headers);

    public Task<FhirResponse> DeleteAsync(string path, Action<HttpRequestHeaders>? headers = null) =>
        SendAsync(HttpMethod.Delete, path, (string?)null, headers);

    public async Task<FhirResponse> SendAsync(HttpMethod method, string path, string? body, Action<HttpRequestHeaders>? headers = null,
        string contentType = "application/fhir+json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        headers?.Invoke(request.Headers);
        using var response = await Http.SendAsync(request);
        return new FhirResponse(response.StatusCode, response.Headers, response.Content.Headers, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Creates the resource and returns what the server stored (id, version).</summary>
    public async Task<T> CreateAsync<T>(T resource) where T : Resource
    {
        var response = await PostAsync($"/{resource.TypeName}", resource);
        Assert.True(response.Status == HttpStatusCode.Created, $"create answered {response.Status}: {response.Body}");
        return response.As<T>();
    }

    /// <summary>The newest entry of the system history: what changes when, and only when, something is written.</summary>
    public async Task<string> LatestChangeAsync()
    {
        var history = (await GetAsync("/_history?_count=1")).As<Bundle>();
        var latest = history.Entry.FirstOrDefault();
        return latest is null ? "(empty)" : $"{latest.FullUrl} {latest.Response?.Etag}";
    }

    /// <summary>Posts a transaction or batch Bundle to the base.</summary>
    public Task<FhirResponse> PostBundleAsync(Bundle bundle, Action<HttpRequestHeaders>? headers = null) =>
        SendAsync(HttpMethod.Post, "/", FhirSerialization.ToJson(bundle), headers);
}

/// <summary>The repository's examples, read from disk, and resources made from them for one test.</summary>
public static class TestData
{
    public const string PseudonymSystem = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";
    public const string PatientProfile = "https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient";

    public static string RepositoryRoot => FhirCaseService.TestSupport.RepositoryRoot.Path;

    public static string ExamplePath(params string[] parts) => Path.Combine([RepositoryRoot, "examples", .. parts]);

    public static T Example<T>(string fileName) where T : Resource =>
        FhirSerialization.StrictJson.Deserialize<T>(File.ReadAllText(ExamplePath("resources", fileName)));

    /// <summary>The example Patient (valid against fhircase-patient) with a pseudonym of its own, so tests never collide.</summary>
    public static Patient NewPatient(string? pseudonym = null)
    {
        var patient = Example<Patient>("Patient-example-patient.json");
        patient.Id = null;
        patient.Identifier[0].Value = pseudonym ?? "T-" + Guid.NewGuid().ToString("N");
        return patient;
    }

    /// <summary>The example MRD Observation about <paramref name="subject"/>.</summary>
    public static Observation NewObservation(string subject)
    {
        var observation = Example<Observation>("Observation-example-mrd-flow.json");
        observation.Id = null;
        observation.Subject = new ResourceReference(subject);
        return observation;
    }
}
