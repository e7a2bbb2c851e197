using System.Buffers;
using System.Text.Json;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>One file a cohort summary reads: the path as the user named it, where it is, and whether it is NDJSON.</summary>
public sealed record CohortFile(string DisplayPath, string FullPath, bool IsNdjson)
{
    /// <summary>NDJSON by file name (.ndjson, .jsonl), else one JSON resource (a Bundle contributes its entries).</summary>
    public static bool IsNdjsonPath(string path) =>
        path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Where an item sits in its file, for the messages that name it.</summary>
internal enum ItemPlace : byte
{
    /// <summary>The file's only resource.</summary>
    WholeFile,
    /// <summary>A line of an NDJSON file; the position is the 1-based line number.</summary>
    Line,
    /// <summary>An entry of a Bundle; the position is the 0-based entry index.</summary>
    BundleEntry,
}

/// <summary>
/// One resource's JSON as a file holds it. <see cref="Json"/> may point into a buffer the reader reuses: a consumer that
/// keeps it past the next item copies it.
/// </summary>
internal readonly record struct CohortFileItem(ItemPlace Place, long Position, ReadOnlyMemory<byte> Json, string? FullUrl)
{
    public static string Location(ItemPlace place, long position) => place switch
    {
        ItemPlace.Line => $"line {position}: ",
        ItemPlace.BundleEntry => $"Bundle.entry[{position}]: ",
        _ => "",
    };
}

/// <summary>
/// Reads the resources of a cohort file one at a time without parsing them into objects: NDJSON is streamed a line at a
/// time, and a JSON file is split into its Bundle's entries (or is one resource). Only the largest single JSON document
/// is ever held whole, as bytes, so reading a 100,000-patient export needs memory for one line, not for the export.
/// </summary>
internal static class CohortFileItems
{
    private const int ReadBufferBytes = 1 << 20;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    // Stands in for each entry's resource in the Bundle's own check: the parser rejects an empty entry, and checks
    // cardinality, so it is a type with no required element.
    private static ReadOnlySpan<byte> PlaceholderResource => "{\"resourceType\":\"Parameters\",\"id\":\"entry\"}"u8;

    /// <summary>
    /// The items of <paramref name="file"/>. A file that cannot be read, or a JSON document that is not well-formed, adds
    /// one message to <paramref name="problems"/> (without the file name) and yields nothing more.
    /// </summary>
    public static IEnumerable<CohortFileItem> Read(CohortFile file, ICollection<string> problems)
    {
        return file.IsNdjson ? Lines(file.FullPath, problems) : Document(file.FullPath, problems);
    }

    private static IEnumerable<CohortFileItem> Lines(string path, ICollection<string> problems)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read: {e.Message}");
            yield break;
        }
        using (stream)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
            try
            {
                int start = 0, end = 0, scanned = 0;
                long line = 0;
                var atEnd = false;
                while (true)
                {
                    var newline = Array.IndexOf(buffer, (byte)'\n', scanned, end - scanned);
                    if (newline < 0 && !atEnd)
                    {
                        // Keep the unfinished line at the buffer's start, growing the buffer for a line longer than it.
                        if (start > 0)
                        {
                            Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                            end -= start;
                            start = 0;
                        }
                        if (end == buffer.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            Buffer.BlockCopy(buffer, 0, larger, 0, end);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                        scanned = end;
                        int read;
                        try
                        {
                            read = stream.Read(buffer, end, buffer.Length - end);
                        }
                        catch (IOException e)
                        {
                            problems.Add($"cannot read: {e.Message}");
                            yield break;
                        }
                        if (read == 0)
                            atEnd = true;
                        end += read;
                        continue;
                    }
                    var lineEnd = newline < 0 ? end : newline;
                    line++;
                    var text = Trim(buffer.AsMemory(start, lineEnd - start), firstLine: line == 1);
                    if (text.Length > 0)
                        yield return new CohortFileItem(ItemPlace.Line, line, text, FullUrl: null);
                    if (newline < 0)
                        yield break;
                    start = scanned = newline + 1;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> line, bool firstLine)
    {
        var span = line.Span;
        var from = firstLine && span.StartsWith(Utf8Bom) ? 3 : 0;
        var to = span.Length;
        while (from < to && IsJsonWhitespace(span[from]))
            from++;
        while (to > from && IsJsonWhitespace(span[to - 1]))
            to--;
        return line[from..to];
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private static IEnumerable<CohortFileItem> Document(string path, ICollection<string> problems)
    {
        byte[] content;
        try
        {
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cannot read: {e.Message}");
            return [];
        }
        var json = content.AsMemory();
        if (json.Span.StartsWith(Utf8Bom))
            json = json[3..];

        List<CohortFileItem>? entries;
        try
        {
            entries = BundleEntries(json);
        }
        catch (JsonException e)
        {
            problems.Add($"not valid JSON: {e.Message}");
            return [];
        }
        return entries ?? [new CohortFileItem(ItemPlace.WholeFile, 0, json, FullUrl: null)];
    }

    /// <summary>
    /// The entries of a Bundle document, each with its fullUrl, or null when the document is not a Bundle. The Bundle
    /// itself (all but its entries' resources) is one more item at position -1, so the strict parse still sees every
    /// field of it and reports what it does not understand.
    /// </summary>
    private static List<CohortFileItem>? BundleEntries(ReadOnlyMemory<byte> json)
    {
        var reader = new Utf8JsonReader(json.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            SkipToEnd(ref reader);
            return null;
        }
        string? resourceType = null;
        (int Start, int End)? entryArray = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isType = reader.ValueTextEquals("resourceType"u8);
            var isEntry = reader.ValueTextEquals("entry"u8);
            reader.Read();
            if (isType && reader.TokenType == JsonTokenType.String)
                resourceType = reader.GetString();
            else if (isEntry && reader.TokenType == JsonTokenType.StartArray)
            {
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                entryArray = (start, (int)reader.BytesConsumed);
            }
            else
                reader.Skip();
        }
        SkipToEnd(ref reader);
        if (resourceType != "Bundle")
            return null;

        var items = new List<CohortFileItem> { new(ItemPlace.WholeFile, -1, BundleWithoutResources(json.Span), FullUrl: null) };
        if (entryArray is not (var from, var to))
            return items;
        var entries = json[from..to];
        var entryReader = new Utf8JsonReader(entries.Span);
        entryReader.Read();
        long index = 0;
        while (entryReader.Read() && entryReader.TokenType != JsonTokenType.EndArray)
        {
            if (entryReader.TokenType != JsonTokenType.StartObject)
            {
                entryReader.Skip();
                index++;
                continue;
            }
            string? fullUrl = null;
            ReadOnlyMemory<byte>? resource = null;
            while (entryReader.Read() && entryReader.TokenType == JsonTokenType.PropertyName)
            {
                var isFullUrl = entryReader.ValueTextEquals("fullUrl"u8);
                var isResource = entryReader.ValueTextEquals("resource"u8);
                entryReader.Read();
                if (isFullUrl && entryReader.TokenType == JsonTokenType.String)
                    fullUrl = entryReader.GetString();
                else if (isResource && entryReader.TokenType == JsonTokenType.StartObject)
                {
                    var start = (int)entryReader.TokenStartIndex;
                    entryReader.Skip();
                    resource = entries[start..(int)entryReader.BytesConsumed];
                }
                else
                    entryReader.Skip();
            }
            if (resource is { } found)
                items.Add(new CohortFileItem(ItemPlace.BundleEntry, index, found, fullUrl));
            index++;
        }
        return items;
    }

    /// <summary>Reads whatever follows the document's first value, so trailing text is reported as not being JSON.</summary>
    private static void SkipToEnd(ref Utf8JsonReader reader)
    {
        while (reader.Read())
        {
        }
    }

    /// <summary>The Bundle with each entry's resource replaced by a placeholder: small, and parsed strictly like any resource.</summary>
    private static ReadOnlyMemory<byte> BundleWithoutResources(ReadOnlySpan<byte> json)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            var reader = new Utf8JsonReader(json);
            reader.Read();
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isEntry = reader.ValueTextEquals("entry"u8);
                writer.WritePropertyName(reader.GetString()!);
                reader.Read();
                if (isEntry && reader.TokenType == JsonTokenType.StartArray)
                    CopyEntriesWithoutResources(json, ref reader, writer);
                else
                    CopyValue(json, ref reader, writer);
            }
            writer.WriteEndObject();
        }
        return output.WrittenMemory;
    }

    private static void CopyEntriesWithoutResources(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        writer.WriteStartArray();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                CopyValue(json, ref reader, writer);
                continue;
            }
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isResource = reader.ValueTextEquals("resource"u8);
                var name = reader.GetString()!;
                reader.Read();
                writer.WritePropertyName(name);
                if (isResource)
                {
                    reader.Skip();
                    writer.WriteRawValue(PlaceholderResource, skipInputValidation: true);
                    continue;
                }
                CopyValue(json, ref reader, writer);
            }
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>Copies the value the reader is on (a scalar, or an object or array with all it holds) as it is.</summary>
    private static void CopyValue(ReadOnlySpan<byte> json, ref Utf8JsonReader reader, Utf8JsonWriter writer)
    {
        var start = (int)reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            reader.Skip();
        writer.WriteRawValue(json[start..(int)reader.BytesConsumed], skipInputValidation: true);
    }
}
