using System.Security.Cryptography;

namespace FhirCaseService.Cli.Auth;

/// <summary>
/// The private key a SMART Backend Services client signs its assertions with: an RSA key (RS384) or an EC P-384 key
/// (ES384), the two algorithms the SMART profile requires servers to accept. <see cref="KeyId"/> is the kid the server
/// finds the public key by: the one given, or else the key's RFC 7638 JWK thumbprint, which a JWKS generated with the
/// usual tools carries by default.
/// </summary>
public sealed class ClientSigningKey : IDisposable
{
    private readonly RSA? _rsa;
    private readonly ECDsa? _ec;

    private ClientSigningKey(RSA? rsa, ECDsa? ec, string? keyId)
    {
        _rsa = rsa;
        _ec = ec;
        Algorithm = rsa is not null ? "RS384" : "ES384";
        KeyId = string.IsNullOrWhiteSpace(keyId) ? Thumbprint() : keyId;
    }

    /// <summary>"RS384" or "ES384".</summary>
    public string Algorithm { get; }

    public string KeyId { get; }

    /// <summary>Reads a PEM private key (PKCS#8 "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY").</summary>
    /// <exception cref="ArgumentException">not a PEM private key, or an EC key on a curve other than P-384.</exception>
    public static ClientSigningKey FromPem(string pem, string? keyId)
    {
        if (!pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            throw new ArgumentException("not a PEM private key (expected a \"-----BEGIN PRIVATE KEY-----\" block)");

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new ClientSigningKey(rsa, null, keyId);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
        }

        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            ec.Dispose();
            throw new ArgumentException($"the PEM holds neither an RSA nor an EC private key ({e.Message})", e);
        }
        if (ec.KeySize != 384)
        {
            ec.Dispose();
            throw new ArgumentException($"an EC key must be on curve P-384 for ES384 (this one has {ec.KeySize} bits)");
        }
        return new ClientSigningKey(null, ec, keyId);
    }

    /// <summary>The JWS signature of <paramref name="signingInput"/>: PKCS#1 v1.5 for RS384, IEEE P1363 r||s for ES384.</summary>
    public byte[] Sign(byte[] signingInput) =>
        _rsa is not null
            ? _rsa.SignData(signingInput, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1)
            : _ec!.SignData(signingInput, HashAlgorithmName.SHA384, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        _rsa?.Dispose();
        _ec?.Dispose();
    }

    /// <summary>RFC 7638 JWK thumbprint; computed by <see cref="PublicJsonWebKey"/> so `fhircase jwks` prints the same kid.</summary>
    private string Thumbprint() =>
        (_rsa is not null ? PublicJsonWebKey.Of(_rsa) : PublicJsonWebKey.Of(_ec!)).Thumbprint();
}

/// <summary>Unpadded base64url (RFC 7515 section 2), as JWTs use it.</summary>
public static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
