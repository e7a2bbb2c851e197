using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>A signing key made for a test: the private half signs JWTs, the public half goes into a JWKS.</summary>
public sealed class TestKey
{
    private TestKey(AsymmetricSecurityKey privateKey, JsonWebKey publicJwk, string algorithm, string kid)
    {
        privateKey.KeyId = kid;
        publicJwk.Kid = kid;
        PrivateKey = privateKey;
        PublicJwk = publicJwk;
        Algorithm = algorithm;
    }

    public AsymmetricSecurityKey PrivateKey { get; }
    public JsonWebKey PublicJwk { get; }
    public string Algorithm { get; }
    public string Kid => PublicJwk.Kid;

    public static TestKey Rsa(string kid, string algorithm = SecurityAlgorithms.RsaSha384)
    {
        var rsa = RSA.Create(2048);
        return new TestKey(new RsaSecurityKey(rsa), JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false))), algorithm, kid);
    }

    public static TestKey Ec(string kid, int bits = 384)
    {
        var ec = ECDsa.Create(bits == 256 ? ECCurve.NamedCurves.nistP256 : ECCurve.NamedCurves.nistP384);
        var publicHalf = ECDsa.Create(ec.ExportParameters(false));
        return new TestKey(new ECDsaSecurityKey(ec), JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(publicHalf)),
            bits == 256 ? SecurityAlgorithms.EcdsaSha256 : SecurityAlgorithms.EcdsaSha384, kid);
    }

    /// <summary>The same private key announced under another kid (a signature no registered key checks).</summary>
    public TestKey Renamed(string kid) => new(PrivateKey, PublicJwk, Algorithm, kid);

    /// <summary>A JWKS of the public halves, as a JSON string.</summary>
    public static string Jwks(params TestKey[] keys) =>
        new JsonObject { ["keys"] = new JsonArray([.. keys.Select(k => (JsonNode)k.PublicJwkJson())]) }.ToJsonString();

    private JsonObject PublicJwkJson()
    {
        var json = new JsonObject { ["kty"] = PublicJwk.Kty, ["kid"] = PublicJwk.Kid, ["use"] = "sig", ["alg"] = Algorithm };
        if (PublicJwk.Kty == "RSA")
        {
            json["n"] = PublicJwk.N;
            json["e"] = PublicJwk.E;
        }
        else
        {
            json["crv"] = PublicJwk.Crv;
            json["x"] = PublicJwk.X;
            json["y"] = PublicJwk.Y;
        }
        return json;
    }

    /// <summary>A JWT signed with this key; <paramref name="notBefore"/> and <paramref name="expires"/> default to now and five minutes on.</summary>
    public string Sign(string issuer, string audience, IDictionary<string, object> claims, DateTime? notBefore = null, DateTime? expires = null, string? algorithm = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddSeconds(-5),
            IssuedAt = notBefore ?? now.AddSeconds(-5),
            Expires = expires ?? now.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(PrivateKey, algorithm ?? Algorithm),
        });
    }

    /// <summary>A SMART Backend Services client assertion: iss = sub = client id, aud = the token endpoint, a fresh jti.</summary>
    public string ClientAssertion(string clientId, string tokenEndpoint, DateTime? expires = null, string? jti = null, string? algorithm = null, DateTime? notBefore = null) =>
        Sign(clientId, tokenEndpoint, new Dictionary<string, object>
        {
            ["sub"] = clientId,
            ["jti"] = jti ?? Guid.NewGuid().ToString("N"),
        }, notBefore, expires, algorithm);
}
