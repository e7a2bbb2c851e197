using FhirCaseService.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace FhirCaseService.TestSupport;

/// <summary>
/// The real service on a real Kestrel socket (127.0.0.1, a free port) over a database of its own, shared by the
/// tests of a class. Tests talk to it with a plain HttpClient, as an EHR, a registry or the CLI would.
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

    /// <summary>The host environment; a subclass may decide it instead of passing it to the constructor.</summary>
    protected virtual string Environment => _environment;

    /// <summary>
    /// Settings on top of the constructor's, read when the host starts: for a subclass whose settings exist only after
    /// its own set-up (keys it generates, a client it registers).
    /// </summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>();

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
        foreach (var (key, value) in _settings.Concat(ExtraSettings))
            settings[key] = value;

        _factory = new KestrelFactory(settings, Environment, _configureHost);
        _factory.StartServer();
        _client = _factory.CreateClient();
    }

    /// <summary>
    /// Kestrel on port 0 must be chosen on the factory that starts the server: a factory derived with
    /// WithWebHostBuilder falls back to port 5000, and parallel hosts would then collide. The port goes in as the host's
    /// URL setting, not as UseKestrel(0): that overload rewrites IServerAddressesFeature after the minimal-hosting app has
    /// started Kestrel on its own thread, and on a loaded machine Kestrel's bind wins the race and the rewrite throws
    /// "IServerAddressesFeature.Addresses cannot be modified after the server has started" (dotnet/aspnetcore#67714).
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
            UseKestrel();
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder
                .UseUrls("http://127.0.0.1:0")
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

/// <summary>The service over a fresh schema of the test PostgreSQL (<see cref="TestPostgres"/>).</summary>
public sealed class PostgresServiceHost() : ServiceHost(new PostgresTestDatabase());
