using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Security;

/// <summary>
/// The "Authorization" section: whether SMART Backend Services authorization is enforced, which token issuers are
/// trusted, and the clients of the service's own token endpoint. See docs/authorization.md.
/// </summary>
public sealed class AuthorizationOptions
{
    public const string Section = "Authorization";

    /// <summary>Absent: on everywhere except the Development environment. Turning it off elsewhere takes an explicit false.</summary>
    public bool? Enabled { get; set; }

    /// <summary>
    /// The service's public base URL (e.g. https://fhir.example.org). Tokens' audience and issuer and the token endpoint
    /// address are built on it. Absent: the base the request reached, which suits a single service without a proxy.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>The "aud" access tokens must carry. Absent: the base URL.</summary>
    public string? Audience { get; set; }

    /// <summary>The "iss" of the access tokens this service issues. Absent: the base URL + "/auth".</summary>
    public string? Issuer { get; set; }

    /// <summary>The "iss" of tokens from an external authorization server whose keys are <see cref="Jwks"/> or <see cref="JwksUrl"/>.</summary>
    public string? ExternalIssuer { get; set; }

    /// <summary>Path of a JWKS file with the external authorization server's public keys.</summary>
    public string? Jwks { get; set; }

    /// <summary>URL of the external authorization server's JWKS: fetched, cached, fetched again on an unknown "kid".</summary>
    public string? JwksUrl { get; set; }

    /// <summary>PEM file (RSA or EC private key) that signs the service's own access tokens; shared by replicas.</summary>
    public string? SigningKeyFile { get; set; }

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How far apart the service's clock and a token issuer's may be.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clients of <c>POST /auth/token</c>, by client_id.</summary>
    public Dictionary<string, ClientRegistration> Clients { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Enforced in this process: the explicit setting, else everywhere but Development.</summary>
    public bool IsEnabledIn(IHostEnvironment environment) => Enabled ?? !environment.IsDevelopment();
}

/// <summary>A client registered for the client_credentials grant: the scopes it may be given and its public keys.</summary>
public sealed class ClientRegistration
{
    /// <summary>Space-separated system scopes the client may be granted (e.g. "system/*.cu").</summary>
    public string Scopes { get; set; } = "";

    /// <summary>The client's JWKS as a JSON string.</summary>
    public string? Jwks { get; set; }

    public string? JwksFile { get; set; }

    public string? JwksUrl { get; set; }
}

/// <summary>Configuration mistakes stop the service at start, naming the setting.</summary>
public sealed class AuthorizationOptionsCheck : IValidateOptions<AuthorizationOptions>
{
    public ValidateOptionsResult Validate(string? name, AuthorizationOptions options)
    {
        var failures = new List<string>();
        if (AuthorizationUrls.Configured(options.BaseUrl) is { } baseUrl && !Uri.TryCreate(baseUrl, UriKind.Absolute, out _))
            failures.Add($"Authorization:BaseUrl must be an absolute URL; got '{baseUrl}'.");
        if ((AuthorizationUrls.Configured(options.Jwks) ?? AuthorizationUrls.Configured(options.JwksUrl)) is not null && string.IsNullOrWhiteSpace(options.ExternalIssuer))
            failures.Add("Authorization:ExternalIssuer is required with Authorization:Jwks or Authorization:JwksUrl: tokens signed by those keys must name their issuer.");
        if (AuthorizationUrls.Configured(options.Jwks) is not null && AuthorizationUrls.Configured(options.JwksUrl) is not null)
            failures.Add("Set one of Authorization:Jwks and Authorization:JwksUrl, not both.");
        if (options.AccessTokenLifetime <= TimeSpan.Zero || options.AccessTokenLifetime > TimeSpan.FromHours(1))
            failures.Add("Authorization:AccessTokenLifetime must be more than zero and at most one hour (e.g. 00:05:00).");
        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > TimeSpan.FromMinutes(5))
            failures.Add("Authorization:ClockSkew must be between 00:00:00 and 00:05:00.");
        foreach (var (clientId, client) in options.Clients)
        {
            var keySources = new[] { client.Jwks, client.JwksFile, client.JwksUrl }.Count(s => !string.IsNullOrWhiteSpace(s));
            if (keySources != 1)
                failures.Add($"Authorization:Clients:{clientId} needs exactly one of Jwks, JwksFile and JwksUrl (its public keys).");
            foreach (var token in ScopeSet.Tokens(client.Scopes))
                if (SmartScope.Read(token).Verdict != ScopeVerdict.Granted)
                    failures.Add($"Authorization:Clients:{clientId}:Scopes has '{token}', which is not a system scope this server grants (system/Type.cruds or system/Type.read|write|*).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
