using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Validation.Instance;

public static partial class InstanceReader
{
    /// <summary>
    /// The fewest characters an entry takes (<c>{"resource":{"resourceType":"Basic"}}</c> is 38): a text shorter than
    /// this many per wanted entry cannot have enough entries, and is read whole without the scan.
    /// </summary>
    private const int MinimumCharsPerEntry = 32;

    /// <summary>What the entry-split read of a Bundle came to.</summary>
    internal enum SplitRead
    {
        /// <summary>Not a big well-formed Bundle (or its shape is unusual): read it whole, as any resource.</summary>
        NotApplicable,

        /// <summary>Something in it would give a parser finding: the caller reads the text strictly.</summary>
        Unclean,

        /// <summary>Every entry and the Bundle around them read cleanly.</summary>
        Clean,
    }

    /// <summary>
    /// The fast read of a big JSON Bundle with its entries on several threads. One scan of the UTF-8 text finds the
    /// entry objects (and proves the text well-formed: any syntax the whole-text read would refuse makes this read not
    /// apply); the Bundle around them is read from the text with its "entry" property cut out, and every entry is read
    /// and checked (<see cref="IsClean"/>, its property names) by a worker, from its own slice of the text, with the
    /// same deserializer the whole-text fast read uses. The entries are then put into the Bundle in order, so the result
    /// is the object the whole-text read builds. Reading was the serial part of validating a big Bundle: about two thirds
    /// of a 100,000-entry Bundle's CPU time before the entry walk, itself already parallel, began.
    /// </summary>
    internal static SplitRead TryReadBundleEntriesOnWorkers(string content, int minimumEntries, int degree, out Bundle? bundle)
    {
        bundle = null;
        if (degree < 2 || minimumEntries <= 0 || content.Length < (long)minimumEntries * MinimumCharsPerEntry)
            return SplitRead.NotApplicable;
        var bytes = Encoding.UTF8.GetBytes(content);
        if (FindEntries(bytes) is not { } split || split.Entries.Count < minimumEntries)
            return SplitRead.NotApplicable;

        Resource shellResource;
        try
        {
            var shellReader = new Utf8JsonReader(split.Shell);
            shellResource = StrictJsonWithoutPocoValidator.DeserializeResource(ref shellReader);
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return SplitRead.Unclean;
        }
        if (shellResource is not Bundle shell || !JsonSourceMapReader.HasOnlyKnownNames(split.Shell) || !IsCleanGuarded(shell) || !ModelInfo.IsKnownResource(shell.TypeName))
            return SplitRead.Unclean;

        var entries = new Bundle.EntryComponent[split.Entries.Count];
        var unclean = 0;
        // Ranges rather than single entries: an entry reads in microseconds, a work item per entry would cost as much.
        var rangeSize = Math.Max(64, entries.Length / (degree * 16));
        var rangeCount = (entries.Length + rangeSize - 1) / rangeSize;
        Parallel.For(0, rangeCount, new ParallelOptions { MaxDegreeOfParallelism = degree }, (range, state) =>
        {
            var end = Math.Min(entries.Length, (range + 1) * rangeSize);
            for (var i = range * rangeSize; i < end; i++)
            {
                var (start, length) = split.Entries[i];
                var slice = bytes.AsSpan(start, length);
                if (ReadEntry(slice) is not { } entry || !JsonSourceMapReader.HasOnlyKnownNames(slice))
                {
                    Interlocked.Exchange(ref unclean, 1);
                    state.Stop();
                    return;
                }
                entries[i] = entry;
            }
        });
        if (unclean != 0)
            return SplitRead.Unclean;
        shell.Entry.AddRange(entries);
        bundle = shell;
        return SplitRead.Clean;
    }

    private static Bundle.EntryComponent? ReadEntry(ReadOnlySpan<byte> slice)
    {
        try
        {
            var reader = new Utf8JsonReader(slice);
            return StrictJsonWithoutPocoValidator.DeserializeObject(typeof(Bundle.EntryComponent), ref reader) is Bundle.EntryComponent entry && IsCleanGuarded(entry)
                ? entry
                : null;
        }
        catch (Exception e) when (IsReadFailure(e))
        {
            return null;
        }
    }

    /// <summary>The failures of the SDK's reader that the strict parse meets again and reports in its own words.</summary>
    private static bool IsReadFailure(Exception e) =>
        e is DeserializationFailedException or JsonException or FormatException or InvalidOperationException or NotSupportedException;

    /// <summary><see cref="IsClean"/>, false where the SDK's typed getters throw on values of the wrong shape (the strict parser reports those).</summary>
    private static bool IsCleanGuarded(Base node)
    {
        try
        {
            return IsClean(node);
        }
        catch (Exception e) when (IsReadStrictlyFailure(e))
        {
            return false;
        }
    }

    /// <summary>Entry slices (byte offset and length) of a Bundle's text, and the text with its "entry" property cut out.</summary>
    private sealed record EntrySplit(List<(int Start, int Length)> Entries, byte[] Shell);

    /// <summary>
    /// Null unless <paramref name="json"/> is one well-formed JSON object with resourceType "Bundle" and one "entry"
    /// array of objects. The reader's default options are the strictest (no comments, no trailing commas, depth 64 over
    /// the whole text), so whatever it accepts the whole-text read accepts too.
    /// </summary>
    private static EntrySplit? FindEntries(byte[] json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            var properties = new List<(int NameStart, int ValueEnd)>();
            var entryProperty = -1;
            var isBundle = false;
            var entries = new List<(int, int)>();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var nameStart = (int)reader.TokenStartIndex;
                var isEntry = reader.ValueTextEquals("entry"u8);
                var isResourceType = reader.ValueTextEquals("resourceType"u8);
                reader.Read();
                if (isResourceType)
                    isBundle = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("Bundle"u8);
                if (isEntry)
                {
                    if (entryProperty >= 0 || reader.TokenType != JsonTokenType.StartArray)
                        return null;
                    entryProperty = properties.Count;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject)
                            return null;
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        entries.Add((start, (int)reader.BytesConsumed - start));
                    }
                }
                else
                {
                    reader.Skip();
                }
                properties.Add((nameStart, (int)reader.BytesConsumed));
            }
            // Anything after the root object (another value) is a syntax error the reader throws on.
            while (reader.Read())
            {
            }
            if (!isBundle || entryProperty < 0)
                return null;
            return new EntrySplit(entries, CutProperty(json, properties, entryProperty));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The text without property <paramref name="index"/>: from the end of the previous property's value (its comma
    /// included) to the end of this one's, or, for the first property, up to the next property's name.
    /// </summary>
    private static byte[] CutProperty(byte[] json, List<(int NameStart, int ValueEnd)> properties, int index)
    {
        var (cutStart, cutEnd) = index > 0
            ? (properties[index - 1].ValueEnd, properties[index].ValueEnd)
            : (properties[0].NameStart, properties.Count > 1 ? properties[1].NameStart : properties[0].ValueEnd);
        var shell = new byte[json.Length - (cutEnd - cutStart)];
        json.AsSpan(0, cutStart).CopyTo(shell);
        json.AsSpan(cutEnd).CopyTo(shell.AsSpan(cutStart));
        return shell;
    }
}
