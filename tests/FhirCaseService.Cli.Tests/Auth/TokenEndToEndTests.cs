using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using FhirCaseService.Cli.Tests.CaseSeries;
using FhirCaseService.Cli.Tests.Export;

namespace FhirCaseService.Cli.Tests.Auth;

/// <summary>
/// One client registered the way the README tells an operator to: its key generated, its JWKS printed by
/// `fhircase jwks` into a file, and that file named in Authorization:Clients:ID:JwksFile. The client may read Patients only.
/// </summary>
public sealed class JwksRegisteredClient : IDisposable
{
    public const string ClientId = "registry-from-jwks";
    public const string AllowedScope = "system/Patient.rs";

    internal TemporaryFolder Folder { get; } = new();

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP384);

    private string JwksFile => Folder.File("registry.jwks.json");

    /// <summary>The service's settings: authorization on (the host runs in Production too) and this client.</summary>
    public IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Authorization:Enabled"] = "true",
        [$"Authorization:Clients:{ClientId}:Scopes"] = AllowedScope,
        [$"Authorization:Clients:{ClientId}:JwksFile"] = JwksFile,
    };

    /// <summary>Writes registry.pem and the JWKS file; called before the service starts, as an operator would.</summary>
    public async Task RegisterAsync()
    {
        File.WriteAllText(Folder.File("registry.pem"), _key.ExportPkcs8PrivateKeyPem());
        var jwks = await CliRun.StartIn(Folder.Path, "jwks", "registry.pem");
        if (jwks.ExitCode != 0)
            throw new InvalidOperationException($"fhircase jwks failed: {jwks.Error}");
        File.WriteAllText(JwksFile, jwks.Out);
    }

    public void Dispose()
    {
        Folder.Dispose();
        _key.Dispose();
    }
}

/// <summary>A test host with <see cref="JwksRegisteredClient"/> registered, whatever its database.</summary>
public interface IJwksRegisteredHost
{
    JwksRegisteredClient Registered { get; }
}

/// <summary>The real service with authorization on over SQLite, <see cref="JwksRegisteredClient"/> registered.</summary>
public sealed class SqliteJwksRegisteredServiceHost : SqliteExportServiceHost, IJwksRegisteredHost, IAsyncLifetime
{
    public JwksRegisteredClient Registered { get; } = new();

    protected override string Environment => "Production";

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => Registered.Settings;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Registered.RegisterAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        Registered.Dispose();
    }
}

/// <summary>The same over PostgreSQL (the token endpoint remembers assertion ids there).</summary>
public sealed class PostgresJwksRegisteredServiceHost : PostgresExportServiceHost, IJwksRegisteredHost, IAsyncLifetime
{
    public JwksRegisteredClient Registered { get; } = new();

    protected override string Environment => "Production";

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => Registered.Settings;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Registered.RegisterAsync();
        await InitializeAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        Registered.Dispose();
    }
}

/// <summary>`fhircase token` against the real token endpoint, and its token used as curl would use it.</summary>
public abstract class TokenEndToEndTests<THost>(THost host) : IClassFixture<THost>
    where THost : ExportServiceHost, IJwksRegisteredHost
{
    private string Folder => host.Registered.Folder.Path;

    private Task<CliRun> Token(params string[] extra) =>
        CliRun.StartIn(Folder, ["token", "--server", host.Base, "--client-id", JwksRegisteredClient.ClientId, "--key", "registry.pem", .. extra]);

    private async Task<HttpStatusCode> GetPatientsWith(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await host.Client.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task The_printed_token_reads_Patients_from_the_service_the_printed_JWKS_registered_the_client_with()
    {
        var run = await Token("--scope", JwksRegisteredClient.AllowedScope);

        Assert.True(run.ExitCode == 0, run.Error);
        var token = run.Out.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', token);
        Assert.Equal(HttpStatusCode.OK, await GetPatientsWith(token));
    }

    [Fact]
    public async Task Without_the_token_the_same_read_is_refused()
    {
        using var response = await host.Client.GetAsync("Patient");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task With_json_the_whole_token_response_is_printed()
    {
        var run = await Token("--scope", JwksRegisteredClient.AllowedScope, "--json");

        Assert.True(run.ExitCode == 0, run.Error);
        using var response = JsonDocument.Parse(run.Out);
        var root = response.RootElement;
        Assert.Equal("bearer", root.GetProperty("token_type").GetString(), StringComparer.OrdinalIgnoreCase);
        Assert.True(root.GetProperty("expires_in").GetInt32() > 0);
        Assert.Equal(HttpStatusCode.OK, await GetPatientsWith(root.GetProperty("access_token").GetString()!));
    }

    [Fact]
    public async Task A_scope_the_client_is_not_allowed_exits_2_with_invalid_scope()
    {
        var run = await Token("--scope", "system/Observation.rs");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("invalid_scope", run.Error);
        Assert.Contains(JwksRegisteredClient.ClientId, run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task A_key_the_server_does_not_know_exits_2_with_invalid_client()
    {
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        File.WriteAllText(host.Registered.Folder.File("stranger.pem"), stranger.ExportPkcs8PrivateKeyPem());

        var run = await CliRun.StartIn(Folder, "token", "--server", host.Base, "--client-id", JwksRegisteredClient.ClientId, "--key", "stranger.pem", "--scope", JwksRegisteredClient.AllowedScope);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("invalid_client", run.Error);
        Assert.Equal("", run.Out);
    }
}

public sealed class SqliteTokenEndToEndTests(SqliteJwksRegisteredServiceHost host) : TokenEndToEndTests<SqliteJwksRegisteredServiceHost>(host);

public sealed class PostgresTokenEndToEndTests(PostgresJwksRegisteredServiceHost host) : TokenEndToEndTests<PostgresJwksRegisteredServiceHost>(host);

/// <summary>`fhircase token` failures that need no server.</summary>
public sealed class TokenCommandTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task An_unreachable_server_exits_2_saying_so()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        File.WriteAllText(_folder.File("key.pem"), ec.ExportPkcs8PrivateKeyPem());
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var run = await CliRun.StartIn(_folder.Path, "token", "--server", $"http://127.0.0.1:{closedPort}/", "--client-id", "c", "--key", "key.pem");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("cannot reach", run.Error);
        Assert.Equal("", run.Out);
    }

    [Theory]
    [InlineData("--client-id", "c")]
    [InlineData("--server", "ftp://x/", "--client-id", "c", "--key", "k.pem")]
    public async Task Missing_or_bad_options_are_usage_errors(params string[] args)
    {
        var run = await CliRun.StartIn(_folder.Path, ["token", .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage: fhircase token", run.Error);
    }

    [Fact]
    public async Task An_unreadable_key_exits_2_naming_it()
    {
        var run = await CliRun.StartIn(_folder.Path, "token", "--server", "http://127.0.0.1:1/", "--client-id", "c", "--key", "missing.pem");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("missing.pem", run.Error);
    }
}
