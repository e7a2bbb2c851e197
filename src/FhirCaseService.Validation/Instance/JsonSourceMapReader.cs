using System.Buffers;
using System.Collections.Frozen;
using System.Text;
using System.Text.Json;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Scans FHIR JSON with <see cref="Utf8JsonReader"/> (which, unlike JsonDocument, exposes token offsets) and records
/// where each element starts. It knows nothing of the FHIR model: shape errors are the SDK parser's job.
/// </summary>
internal static class JsonSourceMapReader
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip };

    private readonly record struct Frame(string Key, bool IsArray, int ArrayIndex);

    /// <summary>Returns null when the text is not well-formed JSON (the caller reports that with the parser's own position).</summary>
    public static SourceMap? Read(string json)
    {
        var map = new SourceMap();
        return Fill(json, map) ? map : null;
    }

    /// <summary>
    /// The map of <paramref name="json"/>, scanned when first asked for a position. A text <see cref="Read"/> would
    /// refuse gives an empty map, which answers as no map does (no position, no entry).
    /// </summary>
    public static SourceMap Deferred(string json) => SourceMap.Deferred(map => Fill(json, map));

    /// <summary>
    /// Whether <paramref name="json"/> is a text <see cref="Read"/> accepts and every property name in it is spelled
    /// exactly as some R4 element is (<see cref="ElementNames"/>; "_name" as "name"): the fast read's name check, one
    /// pass of the reader that allocates nothing per name and records no position.
    /// </summary>
    public static bool HasOnlyKnownNames(string json)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(json));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, bytes);
            var reader = new Utf8JsonReader(bytes.AsSpan(0, length), Options);
            var names = ElementNames.All.GetAlternateLookup<ReadOnlySpan<char>>();
            Span<char> buffer = stackalloc char[128];
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.EndObject))
                    return false;
                if (reader.TokenType != JsonTokenType.PropertyName)
                    continue;
                var known = !reader.ValueIsEscaped && reader.ValueSpan.Length <= buffer.Length
                    ? IsKnown(buffer[..Encoding.UTF8.GetChars(reader.ValueSpan, buffer)], names)
                    : IsKnown(reader.GetString(), names);
                if (!known)
                    return false;
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static bool IsKnown(ReadOnlySpan<char> name, FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> names) =>
        names.Contains(name.Length > 1 && name[0] == '_' ? name[1..] : name);

    /// <summary>Adds the positions of <paramref name="json"/> to an empty map; false (and nothing added) when the text is not a JSON object.</summary>
    private static bool Fill(string json, SourceMap map)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var lines = new LineIndex(bytes);
        var relative = new List<(string Key, SourcePosition Position)>();
        var bundleEntries = new List<(string Key, int Index)>();
        string? rootType = null;
        var reader = new Utf8JsonReader(bytes, Options);
        var stack = new Stack<Frame>();
        string? name = null;
        SourcePosition namePosition = default;
        try
        {
            while (reader.Read())
            {
                var tokenPosition = lines.PositionOf((int)reader.TokenStartIndex);
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        name = reader.GetString()!;
                        // A primitive's id and extensions ("_birthDate") sit where the primitive does.
                        if (name.Length > 1 && name[0] == '_')
                            name = name[1..];
                        namePosition = tokenPosition;
                        break;
                    case JsonTokenType.StartObject when stack.Count == 0:
                        stack.Push(new Frame("", false, 0));
                        break;
                    case JsonTokenType.StartObject:
                    {
                        var key = ElementKey(stack.Peek(), name);
                        relative.Add((key, stack.Peek().IsArray ? tokenPosition : namePosition));
                        if (stack.Count == 2 && stack.Peek() is { IsArray: true, Key: ".entry" } entries)
                            bundleEntries.Add((key, entries.ArrayIndex));
                        stack.Push(new Frame(key, false, 0));
                        break;
                    }
                    case JsonTokenType.StartArray when stack.Count == 0:
                        return false;
                    case JsonTokenType.StartArray:
                        stack.Push(new Frame($"{stack.Peek().Key}.{name}", true, 0));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        stack.Pop();
                        AdvanceArray(stack);
                        break;
                    default:
                        if (stack.Count == 0)
                            return false;
                        if (stack.Count == 1 && name == "resourceType" && reader.TokenType == JsonTokenType.String)
                            rootType = reader.GetString();
                        relative.Add((ElementKey(stack.Peek(), name), stack.Peek().IsArray ? tokenPosition : namePosition));
                        AdvanceArray(stack);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        var root = rootType ?? "Resource";
        map.Add(root, new SourcePosition(1, 1));
        foreach (var (key, position) in relative)
            map.Add(root + key, position);
        if (root == "Bundle")
        {
            foreach (var (key, index) in bundleEntries)
                map.AddBundleEntry(root + key, index);
        }
        return true;
    }

    private static string ElementKey(Frame parent, string? name) =>
        parent.IsArray ? $"{parent.Key}[{parent.ArrayIndex}]" : $"{parent.Key}.{name}[0]";

    private static void AdvanceArray(Stack<Frame> stack)
    {
        if (stack.Count > 0 && stack.Peek().IsArray)
        {
            var array = stack.Pop();
            stack.Push(array with { ArrayIndex = array.ArrayIndex + 1 });
        }
    }

    /// <summary>
    /// Turns token offsets into 1-based lines and character columns. Offsets arrive in increasing order, so the
    /// characters of a line are counted once, from the previous token on: a file written on one line (minified
    /// JSON) costs linear time, not a count from the line start for every token.
    /// </summary>
    private sealed class LineIndex(byte[] bytes)
    {
        private int _line = 1;
        private int _offset;
        private int _column = 1;

        public SourcePosition PositionOf(int offset)
        {
            if (offset < _offset)
                (_line, _offset, _column) = (1, 0, 1);
            var newline = bytes.AsSpan(_offset, offset - _offset).LastIndexOf((byte)'\n');
            if (newline >= 0)
            {
                _line += bytes.AsSpan(_offset, newline + 1).Count((byte)'\n');
                _offset += newline + 1;
                _column = 1;
            }
            _column += Encoding.UTF8.GetCharCount(bytes, _offset, offset - _offset);
            _offset = offset;
            return new SourcePosition(_line, _column);
        }
    }
}
