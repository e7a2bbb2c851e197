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
    private const int MaxConsecutiveRetries = AsyncJobClient.MaxConsecutiveRetries;

    private readonly AsyncJobClient _job = new(http, "export", progress.JobStatus, pollInterval, time, "run again with --restart to start a new export");

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
    public Task<Uri> KickOffAsync(ExportRequestKey request, CancellationToken cancellationToken)
    {
        var url = KickOffUrl(request);
        return _job.KickOffAsync(
            () =>
            {
                var message = new HttpRequestMessage(HttpMethod.Get, url);
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
                message.Headers.Add("Prefer", "respond-async");
                return message;
            },
            $"GET {url}", cancellationToken);
    }

    /// <summary>Polls the status URL until the job completes; returns the manifest's JSON.</summary>
    public Task<string> WaitForManifestAsync(Uri statusUrl, CancellationToken cancellationToken) => _job.WaitForManifestAsync(statusUrl, cancellationToken);

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
    public Task ReleaseJobAsync(Uri statusUrl, CancellationToken cancellationToken) => _job.DeleteJobAsync(statusUrl, cancellationToken);

    private Task WaitAsync(HttpResponseMessage response, string? status, CancellationToken cancellationToken) => _job.WaitAsync(response, status, cancellationToken);
}
