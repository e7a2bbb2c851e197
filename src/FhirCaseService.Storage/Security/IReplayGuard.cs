namespace FhirCaseService.Storage.Security;

/// <summary>
/// Remembers one-time values (a client assertion's iss+jti) until they expire, in the database so every replica sees
/// them: the token endpoint refuses an assertion it has seen before.
/// </summary>
public interface IReplayGuard
{
    /// <summary>True the first time <paramref name="key"/> is seen (and records it until <paramref name="expiresAt"/>); false on a replay.</summary>
    Task<bool> TryUseOnceAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);
}
