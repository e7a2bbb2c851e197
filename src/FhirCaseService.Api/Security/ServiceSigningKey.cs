using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Security;

/// <summary>
/// The key that signs the service's own access tokens: the PEM of <c>Authorization:SigningKeyFile</c> (RSA, 2048 bits
/// or more, signs RS384; EC P-256 or P-384, signs ES256 or ES384), or a P-384 key made at start when none is configured.
/// Its "kid" is the RFC 7638 thumbprint of its public half, which <c>GET /auth/jwks</c> publishes.
/// </summary>
public sealed class ServiceSigningKey
{
    private ServiceSigningKey(AsymmetricSecurityKey privateKey, JsonWebKey publicJwk, string algorithm, bool generated)
    {
        publicJwk.Kid = Base64UrlEncoder.Encode(publicJwk.ComputeJwkThumbprint());
        publicJwk.Use = JsonWebKeyUseNames.Sig;
        publicJwk.Alg = algorithm;
        privateKey.KeyId = publicJwk.Kid;
        PublicJwk = publicJwk;
        Credentials = new SigningCredentials(privateKey, algorithm);
        Generated = generated;
    }

    public SigningCredentials Credentials { get; }

    /// <summary>The public half, for validating the service's tokens and for publishing.</summary>
    public JsonWebKey PublicJwk { get; }

    /// <summary>True when made at start: tokens then die with the process and other replicas cannot check them.</summary>
    public bool Generated { get; }

    public static ServiceSigningKey FromOptions(AuthorizationOptions options) =>
        string.IsNullOrWhiteSpace(options.SigningKeyFile) ? Generate() : FromPem(File.ReadAllText(options.SigningKeyFile), options.SigningKeyFile);

    public static ServiceSigningKey Generate() => FromEc(ECDsa.Create(ECCurve.NamedCurves.nistP384), generated: true);

    public static ServiceSigningKey FromPem(string pem, string source)
    {
        if (pem.Contains("BEGIN EC PRIVATE KEY", StringComparison.Ordinal) || IsPkcs8Ec(pem))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return FromEc(ec, generated: false);
        }
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"Authorization:SigningKeyFile {source} is not a PEM RSA or EC private key.", e);
        }
        if (rsa.KeySize < 2048)
            throw new InvalidOperationException($"Authorization:SigningKeyFile {source} is an RSA key of {rsa.KeySize} bits; use 2048 or more.");
        var key = new RsaSecurityKey(rsa);
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)));
        return new ServiceSigningKey(key, jwk, SecurityAlgorithms.RsaSha384, generated: false);
    }

    private static bool IsPkcs8Ec(string pem)
    {
        using var probe = ECDsa.Create();
        try
        {
            probe.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static ServiceSigningKey FromEc(ECDsa ec, bool generated)
    {
        var algorithm = ec.KeySize switch
        {
            256 => SecurityAlgorithms.EcdsaSha256,
            384 => SecurityAlgorithms.EcdsaSha384,
            _ => throw new InvalidOperationException($"Authorization:SigningKeyFile is an EC key of {ec.KeySize} bits; use P-256 or P-384."),
        };
        var publicHalf = ECDsa.Create(ec.ExportParameters(false));
        var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(publicHalf));
        return new ServiceSigningKey(new ECDsaSecurityKey(ec), jwk, algorithm, generated);
    }
}
