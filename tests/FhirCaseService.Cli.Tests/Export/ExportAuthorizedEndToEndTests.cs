using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// The service with authorization on and its own token endpoint, with clients registered by configuration: two
/// registry clients (RSA and EC P-384 keys, system/*.rs), an EHR client that may write but not read, and the writer
/// the test loads data with. The CLI's keys are PEM files; the service knows only their public JWKs.
/// </summary>
public sealed class SecuredExportServiceHost : SqliteExportServiceHost
{
    public const string RsaRegistry = "registry-rsa";
    public const string EcRegistry = "registry-ec";
    public const string EhrClient = "ehr-push-only";
    private const string Writer = "test-writer";

    public RSA RsaKey { get; } = RSA.Create(2048);
    public ECDsa EcKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _writerKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private BackendServicesTokenSource? _writerTokens;

    protected override string Environment => "Production";

    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Authorization:Enabled"] = "true",
        [$"Authorization:Clients:{RsaRegistry}:Scopes"] = "system/*.rs",
        [$"Authorization:Clients:{RsaRegistry}:Jwks"] = Jwks(RsaKey, "rsa-1"),
        [$"Authorization:Clients:{EcRegistry}:Scopes"] = "system/*.rs",
        [$"Authorization:Clients:{EcRegistry}:Jwks"] = Jwks(EcKey, "ec-1"),
        [$"Authorization:Clients:{EhrClient}:Scopes"] = "system/*.cu",
        [$"Authorization:Clients:{EhrClient}:Jwks"] = Jwks(EcKey, "ec-1"),
        [$"Authorization:Clients:{Writer}:Scopes"] = "system/*.cu",
        [$"Authorization:Clients:{Writer}:Jwks"] = Jwks(_writerKey, "writer-1"),
    };

    /// <summary>The writer gets its token the way the CLI does: the shared token source is what is reused here.</summary>
    protected override async Task<string?> WriterTokenAsync()
    {
        _writerTokens ??= new BackendServicesTokenSource(
            Client,
            new BackendServicesClient(Writer, ClientSigningKey.FromPem(_writerKey.ExportPkcs8PrivateKeyPem(), "writer-1"), "system/*.cu", null),
            Client.BaseAddress!,
            TimeProvider.System);
        return await _writerTokens.GetTokenAsync(CancellationToken.None);
    }

    private static string Jwks(AsymmetricAlgorithm key, string kid)
    {
        static string B64(byte[] bytes) => Base64Url.Encode(bytes);
        JsonObject jwk;
        if (key is RSA rsa)
        {
            var p = rsa.ExportParameters(false);
            jwk = new JsonObject { ["kty"] = "RSA", ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!), ["alg"] = "RS384" };
        }
        else
        {
            var p = ((ECDsa)key).ExportParameters(false);
            jwk = new JsonObject { ["kty"] = "EC", ["crv"] = "P-384", ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!), ["alg"] = "ES384" };
        }
        jwk["kid"] = kid;
        jwk["use"] = "sig";
        return new JsonObject { ["keys"] = new JsonArray(jwk) }.ToJsonString();
    }
}

/// <summary>`fhircase export` as a SMART Backend Services client of the real service, authorization on.</summary>
public sealed class ExportAuthorizedEndToEndTests(SecuredExportServiceHost host) : IClassFixture<SecuredExportServiceHost>, IAsyncLifetime
{
    private readonly TemporaryFolder _folder = new();

    public Task InitializeAsync() => host.EnsureLoadedAsync();

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private Task<CliRun> Export(params string[] extra) =>
        ExportCli.RunAsync(_folder.Path, ["--server", host.Base, "-o", "out", "--poll-interval", "0.1", "--timeout", "60", "--type", "Patient", .. extra]);

    [Theory]
    [InlineData(SecuredExportServiceHost.RsaRegistry, "rsa-1")]
    [InlineData(SecuredExportServiceHost.EcRegistry, "ec-1")]
    public async Task A_registry_client_exports_with_a_token_it_got_with_its_own_key(string clientId, string kid)
    {
        File.WriteAllText(_folder.File("key.pem"), clientId == SecuredExportServiceHost.RsaRegistry
            ? host.RsaKey.ExportPkcs8PrivateKeyPem()
            : host.EcKey.ExportECPrivateKeyPem());

        var run = await Export("--client-id", clientId, "--key", "key.pem", "--key-id", kid);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(5, File.ReadLines(_folder.File("out/Patient.1.ndjson")).Count(l => l.Length > 0));
        using var manifest = JsonDocument.Parse(File.ReadAllText(_folder.File("out/manifest.json")));
        Assert.True(manifest.RootElement.GetProperty("requiresAccessToken").GetBoolean());
    }

    [Fact]
    public async Task Without_a_token_the_export_is_refused_and_exits_2()
    {
        var run = await Export();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("401", run.Error);
        Assert.False(File.Exists(_folder.File("out/manifest.json")));
    }

    [Fact]
    public async Task A_client_that_may_not_read_is_refused_and_exits_2()
    {
        File.WriteAllText(_folder.File("key.pem"), host.EcKey.ExportPkcs8PrivateKeyPem());

        var run = await Export("--client-id", SecuredExportServiceHost.EhrClient, "--key", "key.pem", "--key-id", "ec-1", "--scope", "system/*.cu");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("403", run.Error);
    }
}
