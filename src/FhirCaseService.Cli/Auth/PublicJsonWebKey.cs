using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace FhirCaseService.Cli.Auth;

/// <summary>
/// The public half of a client's signing key as a JWK (RFC 7517): what a server registers to verify the client's
/// assertions. Only the public members are ever held, so nothing private can be printed by mistake. Its
/// <see cref="Thumbprint"/> is the kid <see cref="ClientSigningKey"/> signs with when none is given.
/// </summary>
public sealed class PublicJsonWebKey
{
    /// <summary>Smaller RSA keys are refused: SMART Backend Services (and NIST) ask for at least 2048 bits.</summary>
    public const int MinimumRsaBits = 2048;

    /// <summary>The required members (RFC 7638 section 3.2), in lexicographic order.</summary>
    private readonly SortedDictionary<string, string> _members;

    private PublicJsonWebKey(SortedDictionary<string, string> members, string algorithm)
    {
        _members = members;
        Algorithm = algorithm;
    }

    /// <summary>"RS384" for RSA keys, "ES384" for EC P-384 keys: the algorithms SMART requires servers to accept.</summary>
    public string Algorithm { get; }

    /// <summary>"RSA" or "EC".</summary>
    public string KeyType => _members["kty"];

    public static PublicJsonWebKey Of(RSA rsa)
    {
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new PublicJsonWebKey(
            new(StringComparer.Ordinal) { ["e"] = Base64Url.Encode(parameters.Exponent!), ["kty"] = "RSA", ["n"] = Base64Url.Encode(parameters.Modulus!) },
            "RS384");
    }

    public static PublicJsonWebKey Of(ECDsa ec)
    {
        var parameters = ec.ExportParameters(includePrivateParameters: false);
        return new PublicJsonWebKey(
            new(StringComparer.Ordinal) { ["crv"] = "P-384", ["kty"] = "EC", ["x"] = Base64Url.Encode(parameters.Q.X!), ["y"] = Base64Url.Encode(parameters.Q.Y!) },
            "ES384");
    }

    /// <summary>
    /// Reads the public key of a PEM private key ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY") or public key
    /// ("PUBLIC KEY", "RSA PUBLIC KEY"), as openssl writes them.
    /// </summary>
    /// <exception cref="ArgumentException">no readable RSA or EC key, an RSA key under 2048 bits, or an EC key not on P-384.</exception>
    public static PublicJsonWebKey FromPem(string pem)
    {
        if (!pem.Contains("-----BEGIN ", StringComparison.Ordinal))
            throw new ArgumentException("not a PEM key (expected a \"-----BEGIN PUBLIC KEY-----\" or \"-----BEGIN PRIVATE KEY-----\" block)");
        if (pem.Contains("ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            throw new ArgumentException("the private key is encrypted; give its public key (openssl pkey -in KEY -pubout) or an unencrypted key");

        using (var rsa = RSA.Create())
        {
            if (TryImport(rsa, pem))
            {
                if (rsa.KeySize < MinimumRsaBits)
                    throw new ArgumentException($"an RSA key must have at least {MinimumRsaBits} bits (this one has {rsa.KeySize})");
                return Of(rsa);
            }
        }
        using var ec = ECDsa.Create();
        if (!TryImport(ec, pem, out var failure))
            throw new ArgumentException($"the PEM holds neither an RSA nor an EC key ({failure})");
        if (ec.KeySize != 384)
            throw new ArgumentException($"an EC key must be on curve P-384 for ES384 (this one has {ec.KeySize} bits)");
        return Of(ec);
    }

    /// <summary>RFC 7638: base64url of SHA-256 over the required members in lexicographic order, without whitespace.</summary>
    public string Thumbprint()
    {
        var canonical = "{" + string.Join(",", _members.Select(m => $"\"{m.Key}\":\"{m.Value}\"")) + "}";
        return Base64Url.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>The JWK with "kid", "use":"sig" and "alg" added: the form a JWKS lists it in.</summary>
    public JsonObject ToJson(string keyId)
    {
        var jwk = new JsonObject();
        foreach (var (name, value) in _members)
            jwk[name] = value;
        jwk["kid"] = keyId;
        jwk["use"] = "sig";
        jwk["alg"] = Algorithm;
        return jwk;
    }

    private static bool TryImport(RSA rsa, string pem)
    {
        try
        {
            rsa.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static bool TryImport(ECDsa ec, string pem, out string? failure)
    {
        failure = null;
        try
        {
            ec.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            failure = e.Message;
            return false;
        }
    }
}
