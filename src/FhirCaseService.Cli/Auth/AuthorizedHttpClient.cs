using System.Net;
using System.Net.Http.Headers;

namespace FhirCaseService.Cli.Auth;

/// <summary>
/// Sends requests with the bearer token of an <see cref="IAccessTokenSource"/> (none when the source is null). A 401
/// on a request that carried a token that can be replaced (it expired early, the server restarted with new keys) is
/// retried once with a fresh token; a second 401 is the caller's to report.
/// </summary>
public sealed class AuthorizedHttpClient(HttpClient http, IAccessTokenSource? tokens)
{
    public HttpClient Http => http;

    /// <param name="createRequest">builds the request; called again for the retry, because a sent request cannot be resent.</param>
    /// <param name="authorize">false for requests that must not carry the token (e.g. files on storage that does not ask for it).</param>
    public async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> createRequest,
        bool authorize,
        HttpCompletionOption completion,
        CancellationToken cancellationToken)
    {
        var (response, token) = await SendOnceAsync(createRequest, authorize, completion, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || token is null || !tokens!.TryInvalidate(token))
            return response;
        response.Dispose();
        (response, _) = await SendOnceAsync(createRequest, authorize, completion, cancellationToken).ConfigureAwait(false);
        return response;
    }

    private async Task<(HttpResponseMessage Response, string? Token)> SendOnceAsync(
        Func<HttpRequestMessage> createRequest, bool authorize, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        var request = createRequest();
        string? token = null;
        if (authorize && tokens is not null)
        {
            token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return (await http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false), token);
    }
}
