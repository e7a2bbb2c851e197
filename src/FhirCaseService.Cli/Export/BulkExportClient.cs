using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Export;

/// <summary>
/// The client half of the Bulk Data Access IG 2.0.0 conversation: kick-off, status polling (honouring Retry-After and
/// 429), file download and the closing DELETE. Knows nothing of the output folder's state; <see cref="ExportRun"/> does.
/// </summary>
public sealed class BulkExportClient(AuthorizedHttpClient http, ExportProgress progress, TimeSpan pollInterval, TimeProvider time)
{
    /// <summary>Consecutive 429s or transient 5xx answers tolerated before the run gives up (with its state kept to resume).</summary>
    private const int MaxConsecutiveRetries = 10;

    public const string NdjsonFormat = "application/fhir+ndjson";

    /// <summary>The kick-off URL: [base]/$export or [base]/Group/[id]/$export with the request's parameters.</summary>
    public static Uri KickOffUrl(ExportRequestKey request)
    {
        var path = request.Group is null ? "/$export" : $"/Group/{Uri.EscapeDataString(request.Group)}/$export";
        var query = new List<string> { "_outputFormat=" + Uri.EscapeDataString(NdjsonFormat) };
        if (request.Types.Count > 0)
            query.Add("_type=" + Uri.EscapeDataString(string.Join(',', request.Types)));
        if (request.Since is not null)
            query.Add("_since=" + Uri.EscapeDataString(request.Since));
        // One _typeFilter parameter per filter: a filter's own search may hold commas (code=a,b), so joining is ambiguous.
        query.AddRange(request.TypeFilters.Select(f => "_typeFilter=" + Uri.EscapeDataString(f)));
        return new Uri(request.Server + path + "?" + string.Join('&', query));
    }

    /// <summary>Starts the export; returns the job's status URL (the 202's Content-Location).</summary>
    public async Task<Uri> KickOffAsync(ExportRequestKey request, CancellationToken cancellationToken)
    {
        var url = KickOffUrl(request);
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.SendAsync(
                () =>
                {
                    var message = new HttpRequestMessage(HttpMethod.Get, url);
                    message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
                    message.Headers.Add("Prefer", "respond-async");
                    return message;
                },
                authorize: true, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);

            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                var location = response.Content.Headers.ContentLocation
                    ?? (response.Headers.TryGetValues("Content-Location", out var values) && Uri.TryCreate(values.First(), UriKind.RelativeOrAbsolute, out var parsed) ? parsed : null);
                if (location is null)
                    throw new ServerErrorException($"the server accepted the export (GET {url}) but gave no Content-Location to poll");
                return location.IsAbsoluteUri ? location : new Uri(url, location);
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < MaxConsecutiveRetries)
            {
                await WaitAsync(response, "the server asks to slow down (429)", cancellationToken).ConfigureAwait(false);
                continue;
            }
            var description = await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false);
            throw new ServerErrorException(response.IsSuccessStatusCode
                ? $"the server did not start an asynchronous export (GET {url}): expected 202 Accepted, got {description}"
                : $"the server refused the export (GET {url}): {description}");
        }
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
                        $"the server no longer knows the export job {statusUrl} (expired or cancelled): " +
                        $"{await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}; run again with --restart to start a new export");
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
            throw new ServerErrorException($"the export job failed: {await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}");
        }
    }

    /// <summary>
    /// Streams one file to <paramref name="temporaryPath"/> and returns its size; the caller renames it into place.
    /// A 429 or 503 with Retry-After is waited out; any other failure, or a body shorter than its Content-Length, throws.
    /// </summary>
    public async Task<long> DownloadAsync(Uri url, string name, string temporaryPath, bool authorize, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.SendAsync(
                () =>
                {
                    var message = new HttpRequestMessage(HttpMethod.Get, url);
                    message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(NdjsonFormat));
                    return message;
                },
                authorize, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);

            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                && response.Headers.RetryAfter is not null && attempt < MaxConsecutiveRetries)
            {
                await WaitAsync(response, null, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (!response.IsSuccessStatusCode)
                throw new ServerErrorException($"download of {name} ({url}) failed: {await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}");

            long size = 0;
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var target = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    size += read;
                    progress.BytesReceived(read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (response.Content.Headers.ContentLength is { } expected && expected != size)
                throw new IOException($"download of {name} ended after {size} of {expected} bytes");
            return size;
        }
    }

    /// <summary>Tells the server the files are fetched so it may delete them (the IG's DELETE on the status URL). Best effort.</summary>
    public async Task ReleaseJobAsync(Uri statusUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(
                () => new HttpRequestMessage(HttpMethod.Delete, statusUrl),
                authorize: true, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // The files are safely on disk; a server that did not hear us deletes them when they expire.
        }
    }

    /// <summary>Waits as long as Retry-After says, or the poll interval when it says nothing.</summary>
    private async Task WaitAsync(HttpResponseMessage response, string? status, CancellationToken cancellationToken)
    {
        var delay = ServerResponses.RetryAfter(response, time.GetUtcNow()) ?? pollInterval;
        if (status is not null)
            progress.JobStatus(status, delay);
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
    }
}
