using FhirCaseService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace FhirCaseService.Api.Tests;

/// <summary>
/// The real service on a real Kestrel socket (127.0.0.1, a free port) over a database of its own, shared by the
/// tests of a class. Tests talk to it with a plain HttpClient, as an EHR or registry would.
/// The parameterless form runs on SQLite; <see cref="SqliteServiceHost"/> and <see cref="PostgresServiceHost"/>
/// let one abstract test class run against both backends (two concrete subclasses, one fixture each).
/// </summary>
public class ServiceHost : IAsyncLifetime
{
    private readonly TestDatabase _database;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly string _environment = "Development";
    private readonly Action<IWebHostBuilder>? _configureHost;
    private WebApplicationFactory<Program>? _factory;
    private HttpClient? _client;

    public ServiceHost() : this(new SqliteTestDatabase())
    {
    }

    /// <param name="settings">configuration on top of the database's (e.g. <c>Validation:RequiredProfiles:Patient:0</c>).</param>
    protected ServiceHost(TestDatabase database, IReadOnlyDictionary<string, string?>? settings = null)
    {
        _database = database;
        _settings = settings ?? new Dictionary<string, string?>();
    }

    /// <param name="environment">the host environment (e.g. "Production", where authorization is on by default).</param>
    /// <param name="configureHost">more host set-up, e.g. a logger provider that captures what the service logs.</param>
    protected ServiceHost(TestDatabase database, IReadOnlyDictionary<string, string?>? settings, string environment, Action<IWebHostBuilder>? configureHost = null)
        : this(database, settings)
    {
        _environment = environment;
        _configureHost = configureHost;
    }

    public HttpClient Client => _client ?? throw new InvalidOperationException("The service host has not started yet.");

    public Uri BaseAddress => Client.BaseAddress!;

    /// <summary>The service's container, for tests that look at the store directly.</summary>
    public IServiceProvider Services => _factory?.Services ?? throw new InvalidOperationException("The service host has not started yet.");

    public StorageProvider Backend => _database.Provider;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(await _database.CreateAsync())
        {
            // Tests start from an empty database unless they ask for the examples.
            ["Startup:LoadExamples"] = "false",
        };
        foreach (var (key, value) in _settings)
            settings[key] = value;

        _factory = new KestrelFactory(settings, _environment, _configureHost);
        _factory.StartServer();
        _client = _factory.CreateClient();
    }

    /// <summary>
    /// Kestrel on port 0 must be chosen on the factory that starts the server: a factory derived with
    /// WithWebHostBuilder falls back to port 5000, and parallel hosts would then collide.
    /// </summary>
    private sealed class KestrelFactory : WebApplicationFactory<Program>
    {
        private readonly IReadOnlyDictionary<string, string?> _settings;
        private readonly string _environment;
        private readonly Action<IWebHostBuilder>? _configureHost;

        public KestrelFactory(IReadOnlyDictionary<string, string?> settings, string environment, Action<IWebHostBuilder>? configureHost)
        {
            _settings = settings;
            _environment = environment;
            _configureHost = configureHost;
            UseKestrel(0);
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder
                .UseEnvironment(_environment)
                .ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
            _configureHost?.Invoke(builder);
        }
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_factory is not null)
            await _factory.DisposeAsync();
        await _database.DropAsync();
    }
}

/// <summary>The service over a fresh SQLite file in a temporary directory.</summary>
public sealed class SqliteServiceHost() : ServiceHost(new SqliteTestDatabase());

/// <summary>The service over a fresh schema of the test PostgreSQL (FHIRCASE_TEST_POSTGRES).</summary>
public sealed class PostgresServiceHost() : ServiceHost(new PostgresTestDatabase());

/// <summary>A database of one service host: its storage settings, and its removal afterwards.</summary>
public abstract class TestDatabase
{
    public abstract StorageProvider Provider { get; }

    /// <summary>Creates the empty database and returns the <c>Storage:*</c> settings that point the service at it.</summary>
    public abstract Task<IReadOnlyDictionary<string, string?>> CreateAsync();

    public abstract Task DropAsync();
}

public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "fhircase-api-tests", Guid.NewGuid().ToString("N"));

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override Task<IReadOnlyDictionary<string, string?>> CreateAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.Sqlite),
            ["Storage:DataDirectory"] = _directory,
        });

    public override Task DropAsync()
    {
        // The connection pool may still hold the file for a moment after the host stops.
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

/// <summary>
/// A schema of its own in the test PostgreSQL (tools/ci/start-postgres.sh sets FHIRCASE_TEST_POSTGRES), reached
/// through the connection's search path, so hosts are isolated and run side by side; dropped afterwards.
/// </summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    public const string Variable = FhirCaseService.TestSupport.TestPostgres.Variable;
    private readonly string _schema = "api_" + Guid.NewGuid().ToString("N");

    public override StorageProvider Provider => StorageProvider.PostgreSql;

    private static string AdminConnectionString => FhirCaseService.TestSupport.TestPostgres.ConnectionString;

    public override async Task<IReadOnlyDictionary<string, string?>> CreateAsync()
    {
        try
        {
            await ExecuteAsync($"CREATE SCHEMA {_schema}");
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"Cannot reach PostgreSQL for the API tests ({e.Message}). Run `source tools/ci/start-postgres.sh` (as root) " +
                $"or set {Variable} to a connection string of a role that may create schemas.", e);
        }
        var connectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = _schema, MaxPoolSize = 10 }.ConnectionString;
        return new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.PostgreSql),
            ["Storage:ConnectionString"] = connectionString,
        };
    }

    public override async Task DropAsync()
    {
        await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
