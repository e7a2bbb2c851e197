using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace FhirCaseService.ExportBench;

/// <summary>One output file listed in the manifest (<c>output[]</c> or <c>error[]</c>).</summary>
public sealed record ManifestFile(string Type, Uri Url, long? Count);

public sealed record ExportRun(TimeSpan Elapsed, int Polls, string? TransactionTime, IReadOnlyList<ManifestFile> Output, IReadOnlyList<ManifestFile> Errors);

/// <summary>What came back from one file: bytes and NDJSON lines as received.</summary>
public sealed record DownloadedFile(ManifestFile File, long Bytes, long Lines);

/// <summary>The kick-off answered something other than 202: the export endpoints are not there (yet) or refused.</summary>
public sealed class ExportUnavailableException(string message) : Exception(message);

/// <summary>
/// A Bulk Data client reduced to what the bench times: system-level kick-off, status polling at a fixed short interval
/// (not the server's Retry-After, so the measured time is the export's own to within one interval), and a streamed
/// download that counts bytes and lines without holding a file in memory.
/// </summary>
public sealed class BulkExportClient(HttpClient client, TimeSpan pollInterval)
{
    public async Task<ExportRun> ExportAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        Uri status;
        using (var kickOff = new HttpRequestMessage(HttpMethod.Get, "/$export"))
        {
            kickOff.Headers.Accept.ParseAdd("application/fhir+json");
            kickOff.Headers.Add("Prefer", "respond-async");
            using var response = await client.SendAsync(kickOff, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new ExportUnavailableException($"GET /$export answered {(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync(cancellationToken))}");
            status = response.Content.Headers.ContentLocation
                     ?? throw new ExportUnavailableException("GET /$export answered 202 without Content-Location.");
        }

        var polls = 0;
        while (true)
        {
            if (watch.Elapsed > timeout)
                throw new TimeoutException($"The export was not complete after {timeout.TotalMinutes:F0} min.");
            using var request = new HttpRequestMessage(HttpMethod.Get, status);
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await client.SendAsync(request, cancellationToken);
            polls++;
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                await Task.Delay(pollInterval, cancellationToken);
                continue;
            }
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
                throw new InvalidOperationException($"The export status answered {(int)response.StatusCode}: {Shorten(body)}");
            watch.Stop();
            using var manifest = JsonDocument.Parse(body);
            var root = manifest.RootElement;
            return new ExportRun(
                watch.Elapsed,
                polls,
                root.TryGetProperty("transactionTime", out var time) ? time.GetString() : null,
                Files(root, "output"),
                Files(root, "error"));
        }
    }

    public async Task<DownloadedFile> DownloadAsync(ManifestFile file, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+ndjson"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"GET {file.Url} answered {(int)response.StatusCode}: {Shorten(await response.Content.ReadAsStringAsync(cancellationToken))}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[1 << 16];
        long bytes = 0, lines = 0;
        var last = (byte)'\n';
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var chunk = buffer.AsSpan(0, read);
            bytes += read;
            lines += chunk.Count((byte)'\n');
            last = chunk[^1];
        }
        // The last line need not end with a newline.
        if (last != (byte)'\n')
            lines++;
        return new DownloadedFile(file, bytes, lines);
    }

    private static List<ManifestFile> Files(JsonElement manifest, string property)
    {
        var files = new List<ManifestFile>();
        if (!manifest.TryGetProperty(property, out var array))
            return files;
        foreach (var item in array.EnumerateArray())
            files.Add(new ManifestFile(
                item.GetProperty("type").GetString()!,
                new Uri(item.GetProperty("url").GetString()!),
                item.TryGetProperty("count", out var count) ? count.GetInt64() : null));
        return files;
    }

    private static string Shorten(string text) => text.Length <= 500 ? text : text[..500] + "...";
}
