using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Security;

/// <summary>The clients registered by configuration (Authorization:Clients): their allowed scopes and public keys.</summary>
public sealed class ClientRegistry
{
    private readonly Dictionary<string, (ScopeSet Scopes, JsonWebKeySource Keys)> _clients;

    public ClientRegistry(IOptions<AuthorizationOptions> options, IHttpClientFactory httpClients, TimeProvider clock)
    {
        _clients = new Dictionary<string, (ScopeSet, JsonWebKeySource)>(StringComparer.Ordinal);
        foreach (var (clientId, registration) in options.Value.Clients)
        {
            var keys = !string.IsNullOrWhiteSpace(registration.Jwks) ? JsonWebKeySource.Inline(registration.Jwks, $"Authorization:Clients:{clientId}:Jwks")
                : !string.IsNullOrWhiteSpace(registration.JwksFile) ? JsonWebKeySource.File(registration.JwksFile)
                : JsonWebKeySource.Url(registration.JwksUrl!, httpClients, clock);
            _clients[clientId] = (ScopeSet.Parse(registration.Scopes), keys);
        }
    }

    public IReadOnlyCollection<string> ClientIds => _clients.Keys;

    public JsonWebKeySource? KeysOf(string clientId) => _clients.TryGetValue(clientId, out var client) ? client.Keys : null;

    public ScopeSet AllowedScopes(string clientId) => _clients.TryGetValue(clientId, out var client) ? client.Scopes : ScopeSet.Empty;
}
