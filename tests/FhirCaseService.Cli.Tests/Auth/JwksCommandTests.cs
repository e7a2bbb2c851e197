using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Auth;

/// <summary>`fhircase jwks`: the JWKS a server registers for a client, from the client's own key PEM.</summary>
public sealed class JwksCommandTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Write(string name, string pem)
    {
        File.WriteAllText(_folder.File(name), pem);
        return name;
    }

    private Task<CliRun> Jwks(params string[] args) => CliRun.StartIn(_folder.Path, ["jwks", .. args]);

    private static JsonElement SingleKey(CliRun run)
    {
        Assert.True(run.ExitCode == 0, run.Error);
        var keys = JsonDocument.Parse(run.Out).RootElement.GetProperty("keys");
        return Assert.Single(keys.EnumerateArray());
    }

    /// <summary>RFC 7638 recomputed here from the printed members, independently of the CLI's code.</summary>
    private static string Rfc7638(JsonElement jwk, params string[] required)
    {
        var canonical = "{" + string.Join(",", required.Order(StringComparer.Ordinal).Select(m => $"\"{m}\":\"{jwk.GetProperty(m).GetString()}\"")) + "}";
        return Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    [Fact]
    public async Task An_RSA_key_gives_the_same_public_JWKS_from_its_private_and_its_public_PEM()
    {
        using var rsa = RSA.Create(2048);
        var fromPrivate = await Jwks(Write("rsa.pem", rsa.ExportPkcs8PrivateKeyPem()));
        var fromPkcs1 = await Jwks(Write("rsa-pkcs1.pem", rsa.ExportRSAPrivateKeyPem()));
        var fromPublic = await Jwks(Write("rsa.pub.pem", rsa.ExportSubjectPublicKeyInfoPem()));

        var jwk = SingleKey(fromPrivate);
        Assert.Equal(fromPrivate.Out, fromPublic.Out);
        Assert.Equal(fromPrivate.Out, fromPkcs1.Out);
        Assert.Equal("RSA", jwk.GetProperty("kty").GetString());
        Assert.Equal("RS384", jwk.GetProperty("alg").GetString());
        Assert.Equal("sig", jwk.GetProperty("use").GetString());
        Assert.Equal(Base64Url.Encode(rsa.ExportParameters(false).Modulus!), jwk.GetProperty("n").GetString());
        Assert.Equal(
            ["alg", "e", "kid", "kty", "n", "use"],
            jwk.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Rfc7638(jwk, "e", "kty", "n"), jwk.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task An_EC_P384_key_gives_the_same_public_JWKS_from_its_private_and_its_public_PEM()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var fromPrivate = await Jwks(Write("ec.pem", ec.ExportECPrivateKeyPem()));
        var fromPkcs8 = await Jwks(Write("ec-pkcs8.pem", ec.ExportPkcs8PrivateKeyPem()));
        var fromPublic = await Jwks(Write("ec.pub.pem", ec.ExportSubjectPublicKeyInfoPem()));

        var jwk = SingleKey(fromPrivate);
        Assert.Equal(fromPrivate.Out, fromPublic.Out);
        Assert.Equal(fromPrivate.Out, fromPkcs8.Out);
        Assert.Equal("EC", jwk.GetProperty("kty").GetString());
        Assert.Equal("P-384", jwk.GetProperty("crv").GetString());
        Assert.Equal("ES384", jwk.GetProperty("alg").GetString());
        Assert.Equal(
            ["alg", "crv", "kid", "kty", "use", "x", "y"],
            jwk.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Rfc7638(jwk, "crv", "kty", "x", "y"), jwk.GetProperty("kid").GetString());
    }

    [Fact]
    public async Task The_default_kid_is_the_kid_export_and_token_sign_with()
    {
        using var rsa = RSA.Create(2048);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        foreach (var pem in new[] { rsa.ExportPkcs8PrivateKeyPem(), ec.ExportPkcs8PrivateKeyPem() })
        {
            using var signingKey = ClientSigningKey.FromPem(pem, keyId: null);
            var jwk = SingleKey(await Jwks(Write("key.pem", pem)));
            Assert.Equal(signingKey.KeyId, jwk.GetProperty("kid").GetString());
        }
    }

    [Fact]
    public async Task No_private_member_is_ever_printed()
    {
        using var rsa = RSA.Create(3072);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        foreach (var pem in new[] { rsa.ExportRSAPrivateKeyPem(), ec.ExportECPrivateKeyPem() })
        {
            var run = await Jwks(Write("key.pem", pem));
            var names = SingleKey(run).EnumerateObject().Select(p => p.Name).ToList();
            foreach (var privateMember in new[] { "d", "p", "q", "dp", "dq", "qi" })
                Assert.DoesNotContain(privateMember, names);
        }
    }

    [Fact]
    public async Task Kid_and_alg_can_be_given()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var jwk = SingleKey(await Jwks(Write("ec.pem", ec.ExportPkcs8PrivateKeyPem()), "--kid", "registry-2026", "--alg", "ES384"));

        Assert.Equal("registry-2026", jwk.GetProperty("kid").GetString());
        Assert.Equal("ES384", jwk.GetProperty("alg").GetString());
    }

    [Fact]
    public async Task An_alg_that_does_not_fit_the_key_exits_2()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var run = await Jwks(Write("ec.pem", ec.ExportPkcs8PrivateKeyPem()), "--alg", "RS384");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("ES384", run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task A_P256_key_is_refused_with_exit_2()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var run = await Jwks(Write("p256.pem", ec.ExportPkcs8PrivateKeyPem()));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("P-384", run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task An_RSA_key_under_2048_bits_is_refused_with_exit_2()
    {
        using var rsa = RSA.Create(1024);
        var run = await Jwks(Write("small.pem", rsa.ExportSubjectPublicKeyInfoPem()));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("2048", run.Error);
    }

    [Theory]
    [InlineData("not a key at all")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")]
    public async Task A_file_without_a_key_is_refused_with_exit_2(string content)
    {
        var run = await Jwks(Write("junk.pem", content));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("junk.pem", run.Error);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task A_missing_file_exits_2_naming_it()
    {
        var run = await Jwks("missing.pem");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("missing.pem", run.Error);
    }
}
