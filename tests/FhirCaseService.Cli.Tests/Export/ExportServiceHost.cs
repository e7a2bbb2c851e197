using FhirCaseService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// The real service on a real Kestrel socket over a database of its own (as tests/FhirCaseService.Api.Tests/ServiceHost.cs
/// runs it), for `fhircase export` end to end. The export runner is tuned to pick jobs up at once and to ask for the
/// shortest Retry-After, so a small export completes in about a second.
/// </summary>
public abstract class ExportServiceHost : IAsyncLifetime
{
    private WebApplicationFactory<Program>? _factory;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>The FHIR base URL, without a trailing slash.</summary>
    public string Base => Client.BaseAddress!.AbsoluteUri.TrimEnd('/');

    public abstract StorageProvider Backend { get; }

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
        var bundle = await File.ReadAllTextAsync(Path.Combine(CaseSeries.CliRun.RepositoryRoot, CaseSeries.CliRun.PaperBundle));
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

    protected abstract Task<IReadOnlyDictionary<string, string?>> CreateDatabaseAsync();

    protected abstract Task DropDatabaseAsync();

    /// <summary>More settings on top of the database's, e.g. to switch authorization on.</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

    protected virtual string Environment => "Development";

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(await CreateDatabaseAsync())
        {
            ["Startup:LoadExamples"] = "false",
            ["Export:PollInterval"] = "00:00:00.100",
            ["Export:RetryAfterSeconds"] = "1",
        };
        foreach (var (key, value) in ExtraSettings)
            settings[key] = value;
        _factory = new KestrelFactory(settings, Environment);
        _factory.StartServer();
        Client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_factory is not null)
            await _factory.DisposeAsync();
        await DropDatabaseAsync();
    }

    /// <summary>Port 0 must be chosen on the factory that starts the server (see the API tests' ServiceHost).</summary>
    private sealed class KestrelFactory : WebApplicationFactory<Program>
    {
        private readonly IReadOnlyDictionary<string, string?> _settings;
        private readonly string _environment;

        public KestrelFactory(IReadOnlyDictionary<string, string?> settings, string environment)
        {
            _settings = settings;
            _environment = environment;
            UseKestrel(0);
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder) => builder
            .UseEnvironment(_environment)
            .ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
    }
}

/// <summary>The service over a fresh SQLite file in a temporary directory (export files beside it).</summary>
public class SqliteExportServiceHost : ExportServiceHost
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhircase-cli-export-tests", Guid.NewGuid().ToString("N"));

    public override StorageProvider Backend => StorageProvider.Sqlite;

    protected override Task<IReadOnlyDictionary<string, string?>> CreateDatabaseAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.Sqlite),
            ["Storage:DataDirectory"] = _directory,
        });

    protected override Task DropDatabaseAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(_directory))
                Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless; the tests' verdict does not depend on it.
        }
        return Task.CompletedTask;
    }
}

/// <summary>The service over a schema of its own in the test PostgreSQL (FHIRCASE_TEST_POSTGRES), export files in a temporary directory.</summary>
public class PostgresExportServiceHost : ExportServiceHost
{
    private readonly string _schema = "cli_export_" + Guid.NewGuid().ToString("N");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhircase-cli-export-tests", Guid.NewGuid().ToString("N"));

    public override StorageProvider Backend => StorageProvider.PostgreSql;

    private static string AdminConnectionString => FhirCaseService.TestSupport.TestPostgres.ConnectionString;

    protected override async Task<IReadOnlyDictionary<string, string?>> CreateDatabaseAsync()
    {
        await ExecuteAsync($"CREATE SCHEMA {_schema}");
        return new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.PostgreSql),
            ["Storage:ConnectionString"] = new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = _schema, MaxPoolSize = 10 }.ConnectionString,
            ["Storage:DataDirectory"] = _directory,
        };
    }

    protected override async Task DropDatabaseAsync()
    {
        await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        try
        {
            if (Directory.Exists(_directory))
                Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // As above: harmless.
        }
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
