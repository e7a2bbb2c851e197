using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// The fast read's parse of a big Bundle with its entries' resources parsed by several workers: the entries' resource
/// objects are located with a <see cref="Utf8JsonReader"/>, each parsed on a worker by the deserializer the fast read
/// uses, the Bundle without them parsed on this thread, and the resources put back into their entries. Only for text of
/// the plainest shape (one "entry" array of objects, each with at most one "resource", an object); anything else, and
/// any parser complaint, gives null and the caller parses the whole text as before, so findings never come from here.
/// </summary>
internal static class ParallelBundleReader
{
    private static readonly byte[] EntryName = "entry"u8.ToArray();
    private static readonly byte[] ResourceName = "resource"u8.ToArray();

    public static Bundle? TryRead(string content, FhirJsonDeserializer deserializer, int threshold, int degree)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var spans = ResourceSpans(bytes, threshold);
        if (spans is null)
            return null;
        var resources = new Resource?[spans.Count];
        var failed = 0;
        Parallel.For(0, Math.Min(spans.Count, degree * 8), new ParallelOptions { MaxDegreeOfParallelism = degree }, (r, state) =>
        {
            var rangeCount = Math.Min(spans.Count, degree * 8);
            var end = (int)((long)spans.Count * (r + 1) / rangeCount);
            for (var i = (int)((long)spans.Count * r / rangeCount); i < end && Volatile.Read(ref failed) == 0; i++)
            {
                if (spans[i].Length == 0)
                    continue;
                resources[i] = TryParse(deserializer, bytes.AsSpan(spans[i].Start, spans[i].Length));
                if (resources[i] is null)
                {
                    Volatile.Write(ref failed, 1);
                    state.Stop();
                    return;
                }
            }
        });
        if (failed != 0)
            return null;

        // The Bundle without the entries' resources: each "resource" member cut out with the comma that joins it to a neighbour.
        var skeleton = new MemoryStream(bytes.Length / 8 + 1024);
        var copied = 0;
        foreach (var (cutStart, cutEnd) in spans.Select(s => s.Cut).Where(c => c.End > c.Start))
        {
            skeleton.Write(bytes, copied, cutStart - copied);
            copied = cutEnd;
        }
        skeleton.Write(bytes, copied, bytes.Length - copied);
        if (TryParse(deserializer, skeleton.GetBuffer().AsSpan(0, (int)skeleton.Length)) is not Bundle bundle
            || bundle.Entry.Count != spans.Count || bundle.Entry.Exists(e => e is null || e.Resource is not null))
            return null;
        for (var i = 0; i < spans.Count; i++)
            bundle.Entry[i].Resource = resources[i];
        return bundle;
    }

    private static Resource? TryParse(FhirJsonDeserializer deserializer, ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: true, state: default);
            return deserializer.TryDeserializeResource(ref reader, out var resource, out var issues) && !issues.Any() ? resource : null;
        }
        // Whatever the failure, the whole-text parse meets it again.
        catch (Exception e) when (e is DeserializationFailedException or JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    private readonly record struct ResourceSpan(int Start, int Length, (int Start, int End) Cut);

    /// <summary>Where each entry's resource object is, or null when the text is not of the plain shape this reader handles.</summary>
    private static List<ResourceSpan>? ResourceSpans(byte[] bytes, int threshold)
    {
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            List<ResourceSpan>? spans = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals(EntryName))
                {
                    reader.Skip();
                    continue;
                }
                if (spans is not null || !reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                    return null;
                spans = [];
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject || EntryResource(ref reader, bytes) is not { } span)
                        return null;
                    spans.Add(span);
                }
            }
            return reader.TokenType == JsonTokenType.EndObject && !reader.Read() && spans is not null && spans.Count >= threshold && spans.Exists(s => s.Length > 0) ? spans : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ResourceSpan? EntryResource(ref Utf8JsonReader reader, byte[] bytes)
    {
        ResourceSpan span = new(0, 0, (0, 0));
        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!reader.ValueTextEquals(ResourceName))
            {
                reader.Skip();
                continue;
            }
            var nameStart = (int)reader.TokenStartIndex;
            if (found || !reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            found = true;
            // The comma after the member, else the one before it; a lone member leaves an empty entry, which the parse refuses.
            var after = end;
            while (after < bytes.Length && IsJsonSpace(bytes[after]))
                after++;
            var before = nameStart - 1;
            while (before >= 0 && IsJsonSpace(bytes[before]))
                before--;
            var cut = after < bytes.Length && bytes[after] == (byte)',' ? (nameStart, after + 1)
                : before >= 0 && bytes[before] == (byte)',' ? (before, end) : (nameStart, end);
            span = new ResourceSpan(start, end - start, cut);
        }
        return reader.TokenType == JsonTokenType.EndObject ? span : null;
    }

    private static bool IsJsonSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
}
