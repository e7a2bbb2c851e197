using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace FhirCaseService.Cli.Import;

/// <summary>
/// The body of one $import kick-off: every input file, one after the other, as one NDJSON stream (Content-Type
/// application/fhir+ndjson). NDJSON files pass through line by line (blank lines dropped, line ends normalised to \n);
/// a JSON Bundle becomes one line per entry resource, any other JSON resource one line. Written while it is sent, never
/// held whole in memory (chunked transfer). Every time it is written it records which body line came from which file
/// and line (<see cref="Map"/>), so the server's "line N" can be shown as file:line.
/// </summary>
public sealed class ImportBody(IReadOnlyList<ImportFile> files, ImportProgress progress) : HttpContent
{
    public const string MediaType = "application/fhir+ndjson";

    private static readonly byte[] NewLine = "\n"u8.ToArray();
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Where the body lines of the last completed write came from.</summary>
    public ImportLineMap Map { get; private set; } = new();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var map = new ImportLineMap();
        progress.UploadStarting(files.Count);
        foreach (var file in files)
        {
            var linesBefore = map.LineCount;
            long bytes;
            if (file.IsNdjson)
                bytes = await WriteNdjsonAsync(file, stream, map, cancellationToken).ConfigureAwait(false);
            else
                bytes = await WriteResourceFileAsync(file, stream, map, cancellationToken).ConfigureAwait(false);
            progress.FileSent(file.DisplayPath, map.LineCount - linesBefore, bytes);
        }
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        Map = map;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    /// <summary>Unknown: the body is produced while it is sent.</summary>
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    public static ImportBody Create(IReadOnlyList<ImportFile> files, ImportProgress progress)
    {
        var body = new ImportBody(files, progress);
        body.Headers.ContentType = new MediaTypeHeaderValue(MediaType);
        return body;
    }

    private async Task<long> WriteNdjsonAsync(ImportFile file, Stream target, ImportLineMap map, CancellationToken cancellationToken)
    {
        long bytes = 0;
        using var reader = new StreamReader(file.FullPath, Utf8, detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16, Options = FileOptions.SequentialScan });
        var sourceLine = 0;
        var buffer = new byte[1 << 16];
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            sourceLine++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            map.Add(file, sourceLine, entry: null);
            var length = Utf8.GetMaxByteCount(line.Length) + 1;
            if (buffer.Length < length)
                buffer = new byte[Math.Max(length, buffer.Length * 2)];
            var written = Utf8.GetBytes(line, buffer);
            buffer[written++] = (byte)'\n';
            await target.WriteAsync(buffer.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
            bytes += written;
            progress.LineSent(written);
        }
        return bytes;
    }

    private async Task<long> WriteResourceFileAsync(ImportFile file, Stream target, ImportLineMap map, CancellationToken cancellationToken)
    {
        JsonDocument document;
        await using (var source = File.OpenRead(file.FullPath))
            document = await JsonDocument.ParseAsync(source, cancellationToken: cancellationToken).ConfigureAwait(false);
        using (document)
        {
            var root = document.RootElement;
            long bytes = 0;
            if (root.GetProperty("resourceType").GetString() == "Bundle")
            {
                var index = 0;
                if (root.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array)
                {
                    foreach (var entry in entries.EnumerateArray())
                    {
                        // An entry without a resource (a DELETE request, a search link) has nothing to load.
                        if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("resource", out var resource) && resource.ValueKind == JsonValueKind.Object)
                        {
                            map.Add(file, sourceLine: null, entry: index);
                            bytes += await WriteLineAsync(resource, target, cancellationToken).ConfigureAwait(false);
                        }
                        index++;
                    }
                }
            }
            else
            {
                map.Add(file, sourceLine: null, entry: null);
                bytes += await WriteLineAsync(root, target, cancellationToken).ConfigureAwait(false);
            }
            return bytes;
        }
    }

    private async Task<long> WriteLineAsync(JsonElement resource, Stream target, CancellationToken cancellationToken)
    {
        using var line = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(line))
            resource.WriteTo(writer);
        line.Write(NewLine);
        await target.WriteAsync(line.GetBuffer().AsMemory(0, (int)line.Length), cancellationToken).ConfigureAwait(false);
        progress.LineSent((int)line.Length);
        return line.Length;
    }
}
