using System.Text;
using System.Text.Json;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Scans FHIR JSON once with <see cref="Utf8JsonReader"/> (which, unlike JsonDocument, exposes token offsets) and
/// records where each element starts. It knows nothing of the FHIR model: shape errors are the SDK parser's job.
/// </summary>
internal static class JsonSourceMapReader
{
    private readonly record struct Frame(string Key, bool IsArray, int ArrayIndex);

    /// <summary>Returns null when the text is not well-formed JSON (the caller reports that with the parser's own position).</summary>
    public static SourceMap? Read(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var lines = new LineIndex(bytes);
        var relative = new List<(string Key, SourcePosition Position)>();
        var bundleEntries = new List<(string Key, int Index)>();
        string? rootType = null;
        var allNamesKnown = true;
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
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
                        allNamesKnown &= ElementNames.All.Contains(name);
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
                        return null;
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
                            return null;
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
            return null;
        }

        var map = new SourceMap { AllNamesKnown = allNamesKnown };
        var root = rootType ?? "Resource";
        map.Add(root, new SourcePosition(1, 1));
        foreach (var (key, position) in relative)
            map.Add(root + key, position);
        if (root == "Bundle")
        {
            foreach (var (key, index) in bundleEntries)
                map.AddBundleEntry(root + key, index);
        }
        return map;
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
