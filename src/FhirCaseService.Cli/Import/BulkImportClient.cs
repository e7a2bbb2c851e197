using System.Net.Http.Headers;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Import;

/// <summary>
/// The client half of $import: one POST [base]/$import streaming every input as one NDJSON body, then the asynchronous
/// request pattern shared with export (<see cref="AsyncJobClient"/>: Retry-After, X-Progress, 429, DELETE to cancel),
/// then the error files the manifest lists, read line by line.
/// </summary>
public sealed class BulkImportClient(AuthorizedHttpClient http, ImportProgress progress, TimeSpan pollInterval, TimeProvider time)
{
    private readonly AsyncJobClient _job = new(http, "import", progress.JobStatus, pollInterval, time, "run the import again (a re-run changes nothing already loaded)");

    public static Uri KickOffUrl(Uri server) => new(server.AbsoluteUri.TrimEnd('/') + "/$import");

    /// <summary>Sends the files and returns the job's status URL with the map of body lines to files.</summary>
    public async Task<(Uri StatusUrl, ImportLineMap Lines)> KickOffAsync(Uri server, IReadOnlyList<ImportFile> files, CancellationToken cancellationToken)
    {
        var url = KickOffUrl(server);
        ImportBody? body = null;
        var statusUrl = await _job.KickOffAsync(
            () =>
            {
                body = ImportBody.Create(files, progress);
                var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = body };
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
                message.Headers.Add("Prefer", "respond-async");
                // A server that refuses the request (401, 403, 415) says so before a byte of a large body is sent.
                message.Headers.ExpectContinue = true;
                return message;
            },
            $"POST {url}", cancellationToken).ConfigureAwait(false);
        return (statusUrl, body!.Map);
    }

    public Task<string> WaitForManifestAsync(Uri statusUrl, CancellationToken cancellationToken) => _job.WaitForManifestAsync(statusUrl, cancellationToken);

    /// <summary>Cancels a running job (Ctrl-C, --timeout): the server stops after its current chunk. Best effort.</summary>
    public Task CancelAsync(Uri statusUrl, CancellationToken cancellationToken) => _job.DeleteJobAsync(statusUrl, cancellationToken);

    /// <summary>The lines of one error file (NDJSON OperationOutcomes), streamed.</summary>
    public async IAsyncEnumerable<string> ReadLinesAsync(Uri url, bool authorize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(
            () =>
            {
                var message = new HttpRequestMessage(HttpMethod.Get, url);
                message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ImportBody.MediaType));
                return message;
            },
            authorize, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new ServerErrorException($"download of the error file {url} failed: {await ServerResponses.DescribeAsync(response, cancellationToken).ConfigureAwait(false)}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!string.IsNullOrWhiteSpace(line))
                yield return line;
        }
    }
}
