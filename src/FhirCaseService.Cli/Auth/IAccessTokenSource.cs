namespace FhirCaseService.Cli.Auth;

/// <summary>
/// Where a command's bearer token comes from: a fixed token (--token, FHIRCASE_TOKEN) or one fetched from a SMART
/// Backend Services token endpoint. Shared by the commands that talk to a server; <see cref="AuthorizedHttpClient"/>
/// attaches it and asks for a fresh one once when the server answers 401.
/// </summary>
public interface IAccessTokenSource
{
    /// <summary>The token to send now; fetches one when none is held or the held one is about to expire.</summary>
    Task<string> GetTokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Forgets <paramref name="refusedToken"/> after the server refused it, so the next <see cref="GetTokenAsync"/>
    /// fetches another; false when no other token can be had (a fixed token), so retrying is pointless.
    /// </summary>
    bool TryInvalidate(string refusedToken);
}

/// <summary>A token given on the command line or in the environment: sent as is, never refreshed.</summary>
public sealed class FixedAccessToken(string token) : IAccessTokenSource
{
    public Task<string> GetTokenAsync(CancellationToken cancellationToken) => Task.FromResult(token);

    public bool TryInvalidate(string refusedToken) => false;
}
