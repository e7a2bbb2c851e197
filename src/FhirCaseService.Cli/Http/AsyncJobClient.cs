using System.Net;
using System.Net.Http.Headers;
using FhirCaseService.Cli.Auth;

namespace FhirCaseService.Cli.Http;

/// <summary>
/// The FHIR asynchronous request pattern both Bulk Data operations use ($export, $import): the kick-off's 202 and its
/// Content-Location, polling the status URL (Retry-After honoured, X-Progress shown, 429 and transient 5xx retried) until
/// the manifest, and the DELETE that releases or cancels the job.
/// </summary>
/// <param name="operation">"export" or "import", for messages.</param>
/// <param name="reportStatus">the job's status text and the wait before the next check, for progress.</param>
/// <param name="vanishedAdvice">what the user can do when the server no longer knows the job.</param>
public sealed class AsyncJobClient(
    AuthorizedHttpClient http, string operation, Action<string, TimeSpan> reportStatus, TimeSpan pollInterval, TimeProvider time, string vanishedAdvice)
{
    /// <summary>Consecutive 429s or transient 5xx answers tolerated before the run gives up.</summary>
    public const int MaxConsecutiveRetries = 10;

    /// <summary>
    /// Sends the kick-off request (built afresh for every attempt, as an HTTP request cannot be sent twice) until the
    /// server accepts it; a 429 is waited out as Retry-After says. Returns the status URL of the 202's Content-Location.
    /// </summary>
    /// <param name="what">"GET https://.../$export", for messages.</param>
    public async Task<Uri> KickOffAsync(Func<HttpRequestMessage> createRequest, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.SendAsync(createRequest, authorize: true, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Accepted)
                return StatusUrlOf(response, what);
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < MaxConsecutiveRetries)
            {
                await WaitAsync(response, "the server asks to slow down (429)", cancellationToken).ConfigureAwait(false);
                continue;
            }
            var description = await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false);
            throw new ServerErrorException(response.IsSuccessStatusCode
                ? $"the server did not start an asynchronous {operation} ({what}): expected 202 Accepted, got {description}"
                : $"the server refused the {operation} ({what}): {description}");
        }
    }

    /// <summary>The status URL of an accepted kick-off (its Content-Location, resolved against the kick-off URL).</summary>
    public Uri StatusUrlOf(HttpResponseMessage accepted, string kickOff)
    {
        var location = accepted.Content.Headers.ContentLocation
            ?? (accepted.Headers.TryGetValues("Content-Location", out var values) && Uri.TryCreate(values.First(), UriKind.RelativeOrAbsolute, out var parsed) ? parsed : null);
        if (location is null)
            throw new ServerErrorException($"the server accepted the {operation} ({kickOff}) but gave no Content-Location to poll");
        return location.IsAbsoluteUri ? location : new Uri(accepted.RequestMessage!.RequestUri!, location);
    }

    /// <summary>Polls the status URL until the job completes; returns the manifest's JSON.</summary>
    public async Task<string> WaitForManifestAsync(Uri statusUrl, CancellationToken cancellationToken)
    {
        var retries = 0;
        while (true)
        {
            using var response = await http.SendAsync(
                () =>
                {
                    var message = new HttpRequestMessage(HttpMethod.Get, statusUrl);
                    message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                    return message;
                },
                authorize: true, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);

            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    return await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                case HttpStatusCode.Accepted:
                    retries = 0;
                    var status = response.Headers.TryGetValues("X-Progress", out var values) ? values.FirstOrDefault() : null;
                    await WaitAsync(response, string.IsNullOrWhiteSpace(status) ? "in progress" : $"in progress: {status}", cancellationToken).ConfigureAwait(false);
                    continue;
                case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    throw new ServerErrorException(
                        $"the server no longer knows the {operation} job {statusUrl} (expired or cancelled): " +
                        $"{await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}; {vanishedAdvice}");
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            // The IG: a polling failure that does not mean the job failed carries a transient issue code; try again later.
            var retryable = response.StatusCode == HttpStatusCode.TooManyRequests
                || (ServerResponses.IsServerError(response.StatusCode) && ServerResponses.Issues(body).Any(i => i.Code == "transient"));
            if (retryable && ++retries < MaxConsecutiveRetries)
            {
                await WaitAsync(response, response.StatusCode == HttpStatusCode.TooManyRequests ? "polled too often (429)" : "temporarily unavailable", cancellationToken).ConfigureAwait(false);
                continue;
            }
            throw new ServerErrorException($"the {operation} job failed: {await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}");
        }
    }

    /// <summary>DELETE on the status URL: releases a finished job's files, or cancels a running one. Best effort.</summary>
    public async Task DeleteJobAsync(Uri statusUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(
                () => new HttpRequestMessage(HttpMethod.Delete, statusUrl),
                authorize: true, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // A server that did not hear us expires the job on its own.
        }
    }

    /// <summary>Waits as long as Retry-After says, or the poll interval when it says nothing; reports <paramref name="status"/> when given.</summary>
    public async Task WaitAsync(HttpResponseMessage response, string? status, CancellationToken cancellationToken)
    {
        var delay = ServerResponses.RetryAfter(response, time.GetUtcNow()) ?? pollInterval;
        if (status is not null)
            reportStatus(status, delay);
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
    }
}
