namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// The real service (<see cref="ServiceHost"/>) for `fhircase export`, `import` and `token` end to end. The export
/// runner is tuned to pick jobs up at once and to ask for the shortest Retry-After, so a small export completes in
/// about a second.
/// </summary>
public abstract class ExportServiceHost(TestDatabase database) : ServiceHost(database, new Dictionary<string, string?>
{
    ["Export:PollInterval"] = "00:00:00.100",
    ["Export:RetryAfterSeconds"] = "1",
})
{
    /// <summary>The FHIR base URL, without a trailing slash.</summary>
    public string Base => Client.BaseAddress!.AbsoluteUri.TrimEnd('/');

    private Task? _loaded;

    /// <summary>
    /// Stores the paper's case series (its transaction Bundle: four patients, their data and the case-series Group) and
    /// one patient outside the group, once per host.
    /// </summary>
    public Task EnsureLoadedAsync() => _loaded ??= LoadAsync();

    public const string GroupId = "aertgeerts-2025-ino-bridge";
    public const string OutsiderId = "outside-the-case-series";

    private async Task LoadAsync()
    {
        var bundle = await File.ReadAllTextAsync(RepositoryRoot.Combine(CaseSeries.CliRun.PaperBundle));
        await SendAsync(HttpMethod.Post, "", bundle);
        await SendAsync(HttpMethod.Put, $"Patient/{OutsiderId}", $$"""{"resourceType":"Patient","id":"{{OutsiderId}}","gender":"unknown"}""");
    }

    /// <summary>The bearer token the test's own writes carry; none while authorization is off.</summary>
    protected virtual Task<string?> WriterTokenAsync() => Task.FromResult<string?>(null);

    /// <summary>Sends FHIR JSON to the service and insists on success.</summary>
    public async Task SendAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/fhir+json") };
        if (await WriterTokenAsync() is { } token)
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await Client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} /{path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}

/// <summary>The service over a fresh SQLite file in a temporary directory (export files beside it).</summary>
public class SqliteExportServiceHost() : ExportServiceHost(new SqliteTestDatabase());

/// <summary>The service over a schema of its own in the test PostgreSQL, export files in a temporary directory.</summary>
public class PostgresExportServiceHost() : ExportServiceHost(new PostgresTestDatabase());
