using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>
/// The service with authorization on: an external authorization server (<see cref="ExternalIssuer"/>, keys in a JWKS
/// file) whose tokens tests mint directly with any scope, and clients registered for the service's own token endpoint:
/// <see cref="EhrClient"/> (RSA, RS384, may push) and <see cref="RegistryClient"/> (EC P-384, ES384, may pull).
/// </summary>
public class SecuredServiceHost : ServiceHost
{
    public const string ExternalIssuer = "https://as.fhircase.test";
    public const string Audience = "https://fhircase.test/fhir";
    public const string EhrClient = "ehr-client";
    public const string RegistryClient = "registry-client";
    public const string EhrScopes = "system/*.cu system/Patient.rs";
    public const string RegistryScopes = "system/*.rs";

    public static readonly TestKey ExternalRsa = TestKey.Rsa("external-rsa", Microsoft.IdentityModel.Tokens.SecurityAlgorithms.RsaSha256);
    public static readonly TestKey ExternalEc = TestKey.Ec("external-ec", 256);
    public static readonly TestKey EhrKey = TestKey.Rsa("ehr-key-1");
    public static readonly TestKey RegistryKey = TestKey.Ec("registry-key-1");

    private static readonly Lazy<string> ExternalJwksFile = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), "fhircase-api-tests", $"external-jwks-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, TestKey.Jwks(ExternalRsa, ExternalEc));
        return path;
    });

    public SecuredServiceHost() : this(new SqliteTestDatabase(), "Development", new Dictionary<string, string?> { ["Authorization:Enabled"] = "true" })
    {
    }

    protected SecuredServiceHost(TestDatabase database, string environment, IReadOnlyDictionary<string, string?> settings, Action<IWebHostBuilder>? configureHost = null)
        : base(database, Settings(settings), environment, configureHost)
    {
    }

    private static Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Authorization:Audience"] = Audience,
            ["Authorization:ExternalIssuer"] = ExternalIssuer,
            ["Authorization:Jwks"] = ExternalJwksFile.Value,
            [$"Authorization:Clients:{EhrClient}:Scopes"] = EhrScopes,
            [$"Authorization:Clients:{EhrClient}:Jwks"] = TestKey.Jwks(EhrKey),
            [$"Authorization:Clients:{RegistryClient}:Scopes"] = RegistryScopes,
            [$"Authorization:Clients:{RegistryClient}:Jwks"] = TestKey.Jwks(RegistryKey),
        };
        foreach (var (key, value) in overrides)
            settings[key] = value;
        return settings;
    }

    public string TokenEndpoint => new Uri(BaseAddress, "/auth/token").ToString();

    /// <summary>An access token of the external authorization server granting <paramref name="scope"/>.</summary>
    public static string ExternalToken(string scope, string clientId = "test-client") =>
        ExternalRsa.Sign(ExternalIssuer, Audience, new Dictionary<string, object> { ["sub"] = clientId, ["client_id"] = clientId, ["scope"] = scope });

    /// <summary>A client of the service whose requests carry <paramref name="token"/> (none: no Authorization header).</summary>
    public HttpClient ClientWithToken(string? token)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (token is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public HttpClient ClientWithScopes(string scope) => ClientWithToken(ExternalToken(scope));

    /// <summary>POSTs a token request to /auth/token.</summary>
    public Task<HttpResponseMessage> RequestTokenAsync(IEnumerable<KeyValuePair<string, string>> form) =>
        Client.PostAsync("/auth/token", new FormUrlEncodedContent(form));

    public static IEnumerable<KeyValuePair<string, string>> TokenForm(string assertion, string scope) =>
    [
        new("grant_type", "client_credentials"),
        new("scope", scope),
        new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        new("client_assertion", assertion),
    ];

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/fhir+json");
}
