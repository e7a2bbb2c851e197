using FhirCaseService.Api.Rest;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Security;

/// <summary>An authenticated client of this request: who it is and the system scopes its token grants.</summary>
public sealed record ClientPrincipal(string ClientId, ScopeSet Scopes);

/// <summary>The outcome of checking a bearer token: the client, or why the token is refused (safe to tell the client).</summary>
public sealed record TokenCheck(ClientPrincipal? Client, string? Problem);

/// <summary>The service's addresses that tokens and assertions are checked against, configured or as the request reached it.</summary>
public sealed class AuthorizationUrls(IOptions<AuthorizationOptions> options)
{
    public const string TokenPath = "/auth/token";
    public const string JwksPath = "/auth/jwks";
    public const string SmartConfigurationPath = "/.well-known/smart-configuration";

    private AuthorizationOptions Options => options.Value;

    public string BaseOf(HttpRequest request) => Configured(Options.BaseUrl)?.TrimEnd('/') ?? BaseUrl.Of(request);

    public string Audience(HttpRequest request) => Configured(Options.Audience) ?? BaseOf(request);

    public string Issuer(HttpRequest request) => Configured(Options.Issuer) ?? BaseOf(request) + "/auth";

    /// <summary>An empty setting (e.g. an environment variable set to nothing) means "not configured".</summary>
    public static string? Configured(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    public string TokenEndpoint(HttpRequest request) => BaseOf(request) + TokenPath;
}

/// <summary>
/// Checks bearer tokens: a JWS signed RS256/RS384/ES256/ES384 by a key of its issuer (the service's own key for its
/// own tokens; the configured JWKS for the external issuer), for this service's audience, within its lifetime give or
/// take the clock skew. The issuer is read first (unverified) only to choose the keys; the signature then decides.
/// </summary>
public sealed class AccessTokenValidator(
    IOptions<AuthorizationOptions> options, AuthorizationUrls urls, ServiceSigningKey signingKey, ExternalIssuerKeys externalKeys)
{
    public static readonly string[] AcceptedAlgorithms =
        [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384];

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    public async Task<TokenCheck> ValidateAsync(string token, HttpRequest request, CancellationToken cancellationToken)
    {
        JsonWebToken unverified;
        try
        {
            unverified = Handler.ReadJsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return Refused("The access token is not a JWT.");
        }

        if (!AcceptedAlgorithms.Contains(unverified.Alg))
            return Refused("The access token is signed with an algorithm this server does not accept (RS256, RS384, ES256, ES384).");
        var ownIssuer = urls.Issuer(request);
        IReadOnlyList<SecurityKey> keys;
        if (unverified.Issuer == ownIssuer)
            keys = [signingKey.PublicJwk];
        else if (externalKeys.Source is { } external && unverified.Issuer == options.Value.ExternalIssuer)
            keys = await external.KeysAsync(KeyIdOf(unverified), cancellationToken);
        else
            return Refused("The access token's issuer is not one this server trusts.");

        var keyId = KeyIdOf(unverified);
        if (keyId is not null && !keys.Any(k => k.KeyId == keyId))
            return Refused("The access token is signed with a key (kid) its issuer does not publish.");

        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = unverified.Issuer,
            ValidAudience = urls.Audience(request),
            IssuerSigningKeys = keys,
            ValidAlgorithms = AcceptedAlgorithms,
            ClockSkew = options.Value.ClockSkew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
        });
        if (!result.IsValid)
            return Refused(Describe(result.Exception));

        var clientId = Claim(unverified, "client_id") ?? unverified.Subject;
        if (string.IsNullOrEmpty(clientId))
            return Refused("The access token names no client (client_id or sub).");
        return new TokenCheck(new ClientPrincipal(clientId, ScopeSet.Parse(Claim(unverified, "scope"))), null);
    }

    private static TokenCheck Refused(string problem) => new(null, problem);

    private static string? KeyIdOf(JsonWebToken token) => string.IsNullOrEmpty(token.Kid) ? null : token.Kid;

    private static string? Claim(JsonWebToken token, string name) =>
        token.TryGetPayloadValue<string>(name, out var value) ? value : null;

    /// <summary>The library's exceptions as plain sentences; their own messages may carry token contents.</summary>
    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "The access token has expired.",
        SecurityTokenNotYetValidException => "The access token is not valid yet (nbf is in the future).",
        SecurityTokenNoExpirationException => "The access token has no expiry (exp).",
        SecurityTokenInvalidLifetimeException => "The access token's lifetime is invalid.",
        SecurityTokenInvalidAudienceException => "The access token is meant for another audience (aud).",
        SecurityTokenInvalidIssuerException => "The access token's issuer is not one this server trusts.",
        SecurityTokenInvalidAlgorithmException => "The access token is signed with an algorithm this server does not accept (RS256, RS384, ES256, ES384).",
        SecurityTokenSignatureKeyNotFoundException => "The access token's signature does not verify with any key its issuer publishes.",
        SecurityTokenInvalidSignatureException => "The access token's signature does not verify.",
        SecurityTokenMalformedException => "The access token is not a well-formed JWT.",
        _ => "The access token is not valid.",
    };
}

/// <summary>The keys of the external authorization server (Authorization:Jwks or JwksUrl), if one is configured.</summary>
public sealed class ExternalIssuerKeys(JsonWebKeySource? source)
{
    public JsonWebKeySource? Source { get; } = source;
}
