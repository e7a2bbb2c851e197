using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FhirCaseService.Cli.Tests.CaseSeries;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// `fhircase export` as a SMART Backend Services client: a fake token endpoint checks the client assertion the way a
/// server must (signature against the registered public key, alg, kid, claims) and hands out tokens the fake FHIR
/// endpoints then demand.
/// </summary>
public sealed class ExportAuthorizationTests : IAsyncLifetime
{
    private const string ClientId = "registry-client";

    /// <summary>One RSA key for the class: generating a 2048-bit key takes a second or more on a busy machine.</summary>
    private static readonly Lazy<RSA> SharedRsaKey = new(() => RSA.Create(2048));

    private readonly TemporaryFolder _folder = new();
    private readonly ScriptedExport _script = new();
    private readonly ConcurrentQueue<string> _issuedTokens = new();
    private readonly ConcurrentBag<string> _seenJti = [];
    private readonly ConcurrentQueue<string> _assertionProblems = new();
    private FakeFhirServer _server = null!;
    private AsymmetricAlgorithm? _publicKey;
    private string _expectedAlg = "";
    private string _expectedKid = "";
    private int _expiresIn = 300;
    private Func<HttpContext, Task<bool>>? _refuse;

    public async Task InitializeAsync()
    {
        _script.WithOutput("Patient", "p1", 2);
        _script.RequiresAccessToken = true;
        _script.Hook = HandleAuthorization;
        _server = await FakeFhirServer.StartAsync(_script.Handle);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _publicKey?.Dispose();
        _folder.Dispose();
    }

    private string TokenUrl => _server.Root.AbsoluteUri + "auth/token";

    private async Task<bool> HandleAuthorization(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        if (path == "/fhir/.well-known/smart-configuration")
        {
            await FakeFhirServer.JsonAsync(context, new { token_endpoint = TokenUrl, grant_types_supported = new[] { "client_credentials" } });
            return true;
        }
        if (path == "/auth/token")
        {
            await IssueTokenAsync(context);
            return true;
        }
        if (_refuse is not null && await _refuse(context))
            return true;
        var presented = context.Request.Headers.Authorization.FirstOrDefault();
        if (presented is null || !_issuedTokens.Contains(presented["Bearer ".Length..]))
        {
            await FakeFhirServer.OutcomeAsync(context, 401, "error", "login", "no valid token");
            return true;
        }
        return false;
    }

    private async Task IssueTokenAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync();
        var problem = CheckTokenRequest(form);
        if (problem is not null)
        {
            _assertionProblems.Enqueue(problem);
            await FakeFhirServer.JsonAsync(context, new { error = "invalid_client", error_description = problem }, 400);
            return;
        }
        var token = $"token-{_issuedTokens.Count + 1}";
        _issuedTokens.Enqueue(token);
        await FakeFhirServer.JsonAsync(context, new { access_token = token, token_type = "bearer", expires_in = _expiresIn, scope = form["scope"].ToString() });
    }

    /// <summary>What a SMART Backend Services authorization server checks; null when the request passes.</summary>
    private string? CheckTokenRequest(IFormCollection form)
    {
        if (form["grant_type"] != "client_credentials")
            return "grant_type";
        if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            return "client_assertion_type";
        if (form["scope"] != "system/*.rs")
            return $"scope {form["scope"]}";
        var parts = form["client_assertion"].ToString().Split('.');
        if (parts.Length != 3)
            return "not a JWS";
        using var header = JsonDocument.Parse(Decode(parts[0]));
        using var claims = JsonDocument.Parse(Decode(parts[1]));
        if (header.RootElement.GetProperty("alg").GetString() != _expectedAlg)
            return "alg";
        if (header.RootElement.GetProperty("typ").GetString() != "JWT")
            return "typ";
        if (header.RootElement.GetProperty("kid").GetString() != _expectedKid)
            return $"kid {header.RootElement.GetProperty("kid").GetString()}";
        var signingInput = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var signature = Decode(parts[2]);
        var verified = _publicKey switch
        {
            RSA rsa => rsa.VerifyData(signingInput, signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            ECDsa ec => ec.VerifyData(signingInput, signature, HashAlgorithmName.SHA384),
            _ => false,
        };
        if (!verified)
            return "signature";
        var c = claims.RootElement;
        if (c.GetProperty("iss").GetString() != ClientId || c.GetProperty("sub").GetString() != ClientId)
            return "iss/sub";
        if (c.GetProperty("aud").GetString() != TokenUrl)
            return $"aud {c.GetProperty("aud").GetString()}";
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var exp = c.GetProperty("exp").GetInt64();
        if (exp <= now || exp > now + 301 || exp - c.GetProperty("iat").GetInt64() != 300)
            return "exp";
        var jti = c.GetProperty("jti").GetString();
        if (string.IsNullOrEmpty(jti) || _seenJti.Contains(jti))
            return "jti replayed";
        _seenJti.Add(jti);
        return null;
    }

    private static byte[] Decode(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));
    }

    /// <summary>Creates the client's key pair; the fake server keeps the public half, the CLI gets the private PEM file.</summary>
    private string RegisterKey(string algorithm, string kid)
    {
        string pem;
        if (algorithm == "RS384")
        {
            var rsa = SharedRsaKey.Value;
            pem = rsa.ExportPkcs8PrivateKeyPem();
            _publicKey = RSA.Create(rsa.ExportParameters(includePrivateParameters: false));
        }
        else
        {
            var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
            pem = ec.ExportECPrivateKeyPem();
            _publicKey = ec;
        }
        _expectedAlg = algorithm;
        _expectedKid = kid;
        File.WriteAllText(_folder.File("client.pem"), pem);
        return "client.pem";
    }

    private Task<CliRun> Export(params string[] extra) =>
        ExportCli.RunAsync(_folder.Path, ["--server", _server.Base, "-o", "out", "--poll-interval", "0.05", "--client-id", ClientId, .. extra]);

    [Theory]
    [InlineData("RS384")]
    [InlineData("ES384")]
    public async Task A_backend_services_client_signs_its_assertion_gets_a_token_and_uses_it_everywhere(string algorithm)
    {
        var key = RegisterKey(algorithm, "key-2026");

        var run = await Export("--key", key, "--key-id", "key-2026");

        Assert.True(run.ExitCode == 0, run.Error + string.Join(", ", _assertionProblems));
        Assert.Single(_issuedTokens);
        var authorized = _server.Requests.Where(r => r.Path.StartsWith("/fhir/_", StringComparison.Ordinal) || r.Path.EndsWith("$export", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(authorized);
        Assert.All(authorized, r => Assert.Equal("Bearer token-1", r.Authorization));
        Assert.True(File.Exists(_folder.File("out/Patient.1.ndjson")));
    }

    [Fact]
    public async Task The_key_id_defaults_to_the_keys_jwk_thumbprint()
    {
        RegisterKey("ES384", "");
        var parameters = ((ECDsa)_publicKey!).ExportParameters(false);
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _expectedKid = B64(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"{B64(parameters.Q.X!)}\",\"y\":\"{B64(parameters.Q.Y!)}\"}}")));

        var run = await Export("--key", "client.pem");

        Assert.True(run.ExitCode == 0, run.Error);
    }

    [Fact]
    public async Task A_token_refused_with_401_is_replaced_once()
    {
        var key = RegisterKey("RS384", "k1");
        _refuse = async context =>
        {
            if (!context.Request.Path.Value!.EndsWith("$export", StringComparison.Ordinal) || context.Request.Headers.Authorization != "Bearer token-1")
                return false;
            await FakeFhirServer.OutcomeAsync(context, 401, "error", "login", "token revoked");
            return true;
        };

        var run = await Export("--key", key, "--key-id", "k1");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(2, _issuedTokens.Count);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], _server.RequestsTo("/fhir/$export").Select(r => r.Authorization));
    }

    [Fact]
    public async Task An_expiring_token_is_renewed_before_it_is_sent_again()
    {
        var key = RegisterKey("ES384", "k1");
        _expiresIn = 1;
        _script.StatusAnswers.Enqueue(ScriptedExport.InProgress(retryAfterSeconds: 1));

        var run = await Export("--key", key, "--key-id", "k1");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(_issuedTokens.Count >= 2);
        var polls = _server.Requests.Where(r => r.Path == ScriptedExport.StatusPath && r.Method == "GET").ToList();
        Assert.NotEqual(polls[0].Authorization, polls[1].Authorization);
    }

    [Fact]
    public async Task A_token_endpoint_given_on_the_command_line_is_used_without_discovery()
    {
        var key = RegisterKey("RS384", "k1");

        var run = await Export("--key", key, "--key-id", "k1", "--token-url", TokenUrl);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Empty(_server.RequestsTo("/fhir/.well-known/smart-configuration"));
    }

    [Fact]
    public async Task A_refusing_token_endpoint_exits_2_with_its_error()
    {
        var key = RegisterKey("RS384", "registered-kid");
        _expectedKid = "another-kid";

        var run = await Export("--key", key, "--key-id", "registered-kid");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("invalid_client", run.Error);
        Assert.Empty(_server.RequestsTo("/fhir/$export"));
    }

    [Fact]
    public async Task An_ec_key_not_on_p384_is_a_usage_error()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(_folder.File("p256.pem"), ec.ExportPkcs8PrivateKeyPem());

        var run = await Export("--key", "p256.pem");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("P-384", run.Error);
        Assert.Empty(_server.Requests);
    }
}
