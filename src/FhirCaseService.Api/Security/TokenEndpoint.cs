using System.Text.Json.Serialization;
using FhirCaseService.Api.Audit;
using FhirCaseService.Storage.Security;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Security;

/// <summary>
/// <c>POST /auth/token</c>: the SMART Backend Services token endpoint. A registered client authenticates with a JWT it
/// signed (RS384 or ES384) and gets a short-lived access token for the scopes it asked for and may have.
/// </summary>
public sealed class TokenEndpoint(
    IOptions<AuthorizationOptions> options,
    AuthorizationUrls urls,
    ClientRegistry clients,
    ServiceSigningKey signingKey,
    IReplayGuard replayGuard,
    TimeProvider clock,
    ILogger<TokenEndpoint> logger)
{
    public const string ClientCredentials = "client_credentials";
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    public static readonly string[] AssertionAlgorithms = [SecurityAlgorithms.RsaSha384, SecurityAlgorithms.EcdsaSha384];

    /// <summary>SMART: a client assertion may live at most five minutes.</summary>
    public static readonly TimeSpan MaximumAssertionLifetime = TimeSpan.FromMinutes(5);

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false, SetDefaultTimesOnTokenCreation = false };

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        if (!request.HasFormContentType)
            return Error(OAuthErrors.InvalidRequest, "Send the token request as application/x-www-form-urlencoded.");
        var form = await request.ReadFormAsync(context.RequestAborted);

        var grantType = Single(form, "grant_type");
        if (string.IsNullOrEmpty(grantType))
            return Error(OAuthErrors.InvalidRequest, "grant_type is required (client_credentials).");
        if (grantType != ClientCredentials)
            return Error(OAuthErrors.UnsupportedGrantType, "This server grants client_credentials only (SMART Backend Services).");
        if (Single(form, "client_assertion_type") != JwtBearerAssertionType)
            return Error(OAuthErrors.InvalidRequest, $"client_assertion_type must be {JwtBearerAssertionType}.");
        var assertion = Single(form, "client_assertion");
        if (string.IsNullOrEmpty(assertion))
            return Error(OAuthErrors.InvalidRequest, "client_assertion is required: a JWT signed with the client's registered key.");
        var scopeText = Single(form, "scope");
        if (string.IsNullOrWhiteSpace(scopeText))
            return Error(OAuthErrors.InvalidRequest, "scope is required (e.g. system/*.rs).");

        var authentication = await AuthenticateAsync(assertion, request, context.RequestAborted);
        if (authentication.ClientId is not { } clientId)
        {
            logger.LogInformation("Token request refused: {Problem}", authentication.Problem);
            return Error(OAuthErrors.InvalidClient, authentication.Problem!);
        }
        // The assertion is verified: the audit trail records the request under this client from here on.
        AuditScope.IdentifyClient(clientId);
        var formClientId = Single(form, "client_id");
        if (!string.IsNullOrEmpty(formClientId) && formClientId != clientId)
            return Error(OAuthErrors.InvalidClient, "client_id differs from the client assertion's iss.");

        var requested = new List<SmartScope>();
        foreach (var token in ScopeSet.Tokens(scopeText))
        {
            var reading = SmartScope.Read(token);
            if (reading.Verdict == ScopeVerdict.Unknown)
                return Error(OAuthErrors.InvalidScope, $"'{token}' is not a scope this server knows: use system/Type.cruds (SMART v2) or system/Type.read|write|* (v1).");
            if (reading.Scope is not null)
                requested.Add(reading.Scope);
        }
        var granted = clients.AllowedScopes(clientId).Grant(requested);
        if (granted.Count == 0)
            return Error(OAuthErrors.InvalidScope, $"None of the requested scopes is allowed to client {clientId}.");

        var lifetime = options.Value.AccessTokenLifetime;
        var now = clock.GetUtcNow();
        var scope = string.Join(' ', granted);
        var accessToken = Handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = urls.Issuer(request),
            Audience = urls.Audience(request),
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = clientId,
                ["client_id"] = clientId,
                ["scope"] = scope,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
            },
            SigningCredentials = signingKey.Credentials,
        });
        logger.LogInformation("Issued an access token to client {ClientId} for {Scope}", clientId, scope);
        return TypedResults.Json(new TokenResponse(accessToken, "bearer", (int)lifetime.TotalSeconds, scope), TokenJsonContext.Default.TokenResponse);
    }

    private sealed record Authentication(string? ClientId, string? Problem);

    /// <summary>SMART Backend Services' checks of the client assertion; any failure is invalid_client.</summary>
    private async Task<Authentication> AuthenticateAsync(string assertion, HttpRequest request, CancellationToken cancellationToken)
    {
        JsonWebToken unverified;
        try
        {
            unverified = Handler.ReadJsonWebToken(assertion);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return Refused("client_assertion is not a JWT.");
        }
        if (!AssertionAlgorithms.Contains(unverified.Alg))
            return Refused("The client assertion must be signed RS384 or ES384.");
        var clientId = unverified.Issuer;
        if (string.IsNullOrEmpty(clientId) || unverified.Subject != clientId)
            return Refused("The client assertion's iss and sub must both be the client_id.");
        if (clients.KeysOf(clientId) is not { } keySource)
            return Refused($"Client {clientId} is not registered with this server.");

        var keyId = string.IsNullOrEmpty(unverified.Kid) ? null : unverified.Kid;
        var keys = await keySource.KeysAsync(keyId, cancellationToken);
        if (keyId is not null && !keys.Any(k => k.KeyId == keyId))
            return Refused($"The client assertion names a key (kid) that client {clientId} has not registered.");
        var skew = options.Value.ClockSkew;
        var result = await Handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = clientId,
            ValidAudience = urls.TokenEndpoint(request),
            IssuerSigningKeys = keys,
            ValidAlgorithms = AssertionAlgorithms,
            ClockSkew = skew,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
        });
        if (!result.IsValid)
            return Refused(Describe(result.Exception, urls.TokenEndpoint(request)));

        var expires = new DateTimeOffset(unverified.ValidTo, TimeSpan.Zero);
        if (expires - clock.GetUtcNow() > MaximumAssertionLifetime + skew)
            return Refused("The client assertion's exp is more than five minutes ahead.");
        if (string.IsNullOrEmpty(unverified.Id))
            return Refused("The client assertion has no jti.");
        // iss+jti, kept until the assertion expires (plus the skew it is accepted with): a second use is a replay.
        if (!await replayGuard.TryUseOnceAsync($"{clientId}|{unverified.Id}", expires + skew, cancellationToken))
            return Refused("The client assertion's jti has been used before.");
        return new Authentication(clientId, null);

        static Authentication Refused(string problem) => new(null, problem);
    }

    private static string Describe(Exception? exception, string tokenEndpoint) => exception switch
    {
        SecurityTokenExpiredException => "The client assertion has expired.",
        SecurityTokenNotYetValidException => "The client assertion is not valid yet (nbf is in the future).",
        SecurityTokenNoExpirationException => "The client assertion has no exp.",
        SecurityTokenInvalidAudienceException => $"The client assertion's aud must be the token endpoint, {tokenEndpoint}.",
        SecurityTokenInvalidAlgorithmException => "The client assertion must be signed RS384 or ES384.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException =>
            "The client assertion's signature does not verify with the client's registered keys.",
        _ => "The client assertion is not valid.",
    };

    private static string? Single(IFormCollection form, string name) => form.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;

    private static IResult Error(string error, string description) =>
        TypedResults.Json(new OAuthError(error, description), TokenJsonContext.Default.OAuthError,
            statusCode: error == OAuthErrors.InvalidClient ? StatusCodes.Status401Unauthorized : StatusCodes.Status400BadRequest);
}

/// <summary>The RFC 6749 error codes the token endpoint answers with.</summary>
public static class OAuthErrors
{
    public const string InvalidRequest = "invalid_request";
    public const string InvalidClient = "invalid_client";
    public const string InvalidGrant = "invalid_grant";
    public const string InvalidScope = "invalid_scope";
    public const string UnsupportedGrantType = "unsupported_grant_type";
}

public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope);

public sealed record OAuthError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(OAuthError))]
internal sealed partial class TokenJsonContext : JsonSerializerContext;
