using System.Net.Http.Headers;
using System.Text.Json;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Auth;

/// <summary>What a SMART Backend Services client needs to get a token. A null <see cref="TokenUrl"/> is discovered.</summary>
public sealed record BackendServicesClient(string ClientId, ClientSigningKey Key, string Scope, Uri? TokenUrl);

/// <summary>
/// Access tokens from a SMART Backend Services token endpoint (client_credentials grant, the client authenticated by a
/// signed JWT assertion). The token endpoint is the one given, or the token_endpoint of
/// [base]/.well-known/smart-configuration. A token is reused until shortly before it expires, then replaced; a token
/// the server refused is replaced on the next request. Safe to use from parallel requests: one fetch at a time.
/// </summary>
public sealed class BackendServicesTokenSource(HttpClient http, BackendServicesClient client, Uri serverBase, TimeProvider time) : IAccessTokenSource
{
    /// <summary>Tokens are replaced this long before they expire (at most a quarter of their lifetime), so none expires in flight.</summary>
    private static readonly TimeSpan RenewalMargin = TimeSpan.FromSeconds(30);

    /// <summary>Used when the token response has no expires_in: SMART's recommended maximum lifetime.</summary>
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Uri? _tokenUrl = client.TokenUrl;
    private string? _token;
    private DateTimeOffset _renewAt;

    /// <summary>How many tokens this source has fetched: a renewal or a replaced refused token counts one more.</summary>
    public int TokensFetched { get; private set; }

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is not null && time.GetUtcNow() < _renewAt)
                return _token;
            _tokenUrl ??= await DiscoverTokenUrlAsync(cancellationToken).ConfigureAwait(false);
            var issuedAt = time.GetUtcNow();
            var (token, lifetime) = await RequestTokenAsync(_tokenUrl, issuedAt, cancellationToken).ConfigureAwait(false);
            _token = token;
            var margin = lifetime / 4 < RenewalMargin ? lifetime / 4 : RenewalMargin;
            _renewAt = issuedAt + lifetime - margin;
            TokensFetched++;
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public bool TryInvalidate(string refusedToken)
    {
        _gate.Wait();
        try
        {
            if (_token == refusedToken)
                _token = null;
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<Uri> DiscoverTokenUrlAsync(CancellationToken cancellationToken)
    {
        var discovery = new Uri(WithTrailingSlash(serverBase), ".well-known/smart-configuration");
        using var request = new HttpRequestMessage(HttpMethod.Get, discovery);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new ServerErrorException(
                $"cannot discover the token endpoint: GET {discovery} answered {await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)} (give --token-url)");
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("token_endpoint", out var endpoint)
                && endpoint.ValueKind == JsonValueKind.String
                && Uri.TryCreate(discovery, endpoint.GetString(), out var tokenUrl))
                return tokenUrl;
        }
        catch (JsonException)
        {
            // Reported below with the same advice as a missing token_endpoint.
        }
        throw new ServerErrorException($"cannot discover the token endpoint: {discovery} has no token_endpoint (give --token-url)");
    }

    private async Task<(string Token, TimeSpan Lifetime)> RequestTokenAsync(Uri tokenUrl, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var assertion = ClientAssertion.Create(client.Key, client.ClientId, tokenUrl.AbsoluteUri, now);
        using var request = new HttpRequestMessage(HttpMethod.Post, tokenUrl)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = client.Scope,
                ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ["client_assertion"] = assertion,
            }),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new ServerErrorException($"the token endpoint {tokenUrl} refused client '{client.ClientId}': {(int)response.StatusCode} {OAuthError(body) ?? response.ReasonPhrase}");
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("access_token", out var token) && token.ValueKind == JsonValueKind.String
                && token.GetString() is { Length: > 0 } accessToken)
            {
                var lifetime = root.TryGetProperty("expires_in", out var expiresIn) && expiresIn.ValueKind == JsonValueKind.Number && expiresIn.TryGetDouble(out var seconds) && seconds > 0
                    ? TimeSpan.FromSeconds(seconds)
                    : DefaultLifetime;
                return (accessToken, lifetime);
            }
        }
        catch (JsonException)
        {
            // Reported below.
        }
        throw new ServerErrorException($"the token endpoint {tokenUrl} answered without an access_token");
    }

    /// <summary>RFC 6749 error responses: "invalid_client: the assertion's signature does not verify".</summary>
    private static string? OAuthError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return null;
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            var description = root.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            if (error is not null)
                return description is null ? error : $"{error}: {description}";
            var issues = ServerResponses.Issues(root);
            return issues.Count > 0 ? string.Join("; ", issues) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
