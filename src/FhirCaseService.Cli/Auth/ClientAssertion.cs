using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FhirCaseService.Cli.Auth;

/// <summary>
/// The signed JWT a SMART Backend Services client authenticates with (client_assertion): header {alg, typ, kid},
/// claims iss = sub = the client id, aud = the token endpoint, a short exp, a random jti the server remembers to refuse
/// replays, and iat.
/// </summary>
public static class ClientAssertion
{
    /// <summary>SMART asks for an expiry no more than five minutes ahead.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public static string Create(ClientSigningKey key, string clientId, string tokenUrl, DateTimeOffset now)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["alg"] = key.Algorithm,
            ["typ"] = "JWT",
            ["kid"] = key.KeyId,
        });
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = clientId,
            ["sub"] = clientId,
            ["aud"] = tokenUrl,
            ["exp"] = now.Add(Lifetime).ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Base64Url.Encode(RandomNumberGenerator.GetBytes(16)),
        });
        var signingInput = Base64Url.Encode(header) + "." + Base64Url.Encode(claims);
        return signingInput + "." + Base64Url.Encode(key.Sign(Encoding.ASCII.GetBytes(signingInput)));
    }
}
