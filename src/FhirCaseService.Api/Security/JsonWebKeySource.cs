using Microsoft.IdentityModel.Tokens;

namespace FhirCaseService.Api.Security;

/// <summary>
/// A JWKS (public signing keys) from inline JSON, a file, or a URL. A URL's keys are cached, fetched again after an
/// hour, and fetched again when a token names a key ("kid") the cache lacks, which is how issuers roll keys; the
/// refetch for an unknown kid happens at most every 30 seconds, so tokens with made-up kids cannot make the service
/// hammer the issuer. A fetch that fails keeps the keys already known.
/// </summary>
public sealed class JsonWebKeySource
{
    private static readonly TimeSpan MaximumAge = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinimumRefetchInterval = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<string>> _load;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey>? _keys;
    private DateTimeOffset _loadedAt;

    private JsonWebKeySource(string description, bool refetchable, Func<CancellationToken, Task<string>> load, TimeProvider clock)
    {
        Description = description;
        Refetchable = refetchable;
        _load = load;
        _clock = clock;
    }

    /// <summary>Where the keys come from, for messages (never the keys themselves).</summary>
    public string Description { get; }

    private bool Refetchable { get; }

    public static JsonWebKeySource Inline(string json, string description) =>
        new(description, false, _ => Task.FromResult(json), TimeProvider.System);

    public static JsonWebKeySource File(string path) =>
        new($"file {path}", false, ct => System.IO.File.ReadAllTextAsync(path, ct), TimeProvider.System);

    public static JsonWebKeySource Url(string url, IHttpClientFactory httpClients, TimeProvider clock) =>
        new($"URL {url}", true, async ct =>
        {
            using var client = httpClients.CreateClient(nameof(JsonWebKeySource));
            client.Timeout = TimeSpan.FromSeconds(10);
            return await client.GetStringAsync(new Uri(url), ct);
        }, clock);

    /// <summary>The signing keys; when <paramref name="keyId"/> is not among them and the source is a URL, fetched again first.</summary>
    public async Task<IReadOnlyList<SecurityKey>> KeysAsync(string? keyId, CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (keys is not null && !NeedsRefetch(keys, keyId))
            return keys;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_keys is null || NeedsRefetch(_keys, keyId))
            {
                try
                {
                    _keys = Parse(await _load(cancellationToken));
                }
                catch (Exception e) when (_keys is not null && e is HttpRequestException or TaskCanceledException or ArgumentException or IOException)
                {
                    // Keep serving the keys we have; the next unknown kid after the interval tries again.
                }
                _loadedAt = _clock.GetUtcNow();
            }
            return _keys;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool NeedsRefetch(IReadOnlyList<SecurityKey> keys, string? keyId)
    {
        if (!Refetchable)
            return false;
        var age = _clock.GetUtcNow() - _loadedAt;
        if (age > MaximumAge)
            return true;
        return keyId is not null && !keys.Any(k => k.KeyId == keyId) && age > MinimumRefetchInterval;
    }

    /// <summary>The keys meant for signatures (a JWKS may also list encryption keys).</summary>
    public static IReadOnlyList<SecurityKey> Parse(string json)
    {
        var set = new JsonWebKeySet(json);
        return [.. set.Keys.Where(k => string.IsNullOrEmpty(k.Use) || k.Use == JsonWebKeyUseNames.Sig)];
    }
}
