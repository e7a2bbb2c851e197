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
    public static SourceMap Deferred(string json) => SourceMap.Deferred(map => FillOutline(json, map));

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
            return HasOnlyKnownNames(bytes.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary><see cref="HasOnlyKnownNames(string)"/> of UTF-8 text (a whole resource, or one Bundle entry's slice of it).</summary>
    public static bool HasOnlyKnownNames(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, Options);
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
    }

    private static bool IsKnown(ReadOnlySpan<char> name, FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> names) =>
        names.Contains(name.Length > 1 && name[0] == '_' ? name[1..] : name);

    /// <summary>Adds the positions of <paramref name="json"/> to an empty map; false (and nothing added) when the text is not a JSON object.</summary>
    private static bool Fill(string json, SourceMap map)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var scan = new Scan(bytes, new LineIndex(bytes), outline: false);
        if (!scan.Run(0, bytes.Length, new Stack<Frame>()))
            return false;
        scan.AddTo(map);
        return true;
    }

    /// <summary>
    /// Adds the positions of <paramref name="json"/> outside the items of its top-level "entry" array (a Bundle's
    /// entries) and the position of each item, and leaves each item's content to be scanned when a position inside it
    /// is first asked for (<see cref="SourceMap.Find"/>): a finding in a 100,000-entry Bundle no longer scans and keeps
    /// the keys of every element of every entry. Where the outline would differ from <see cref="Fill"/> (a second entry
    /// array, an item that is itself an array) the whole text is scanned at once, as <see cref="Fill"/> does.
    /// </summary>
    private static bool FillOutline(string json, SourceMap map)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var scan = new Scan(bytes, new LineIndex(bytes), outline: true);
        bool read;
        try
        {
            read = scan.Run(0, bytes.Length, new Stack<Frame>());
        }
        catch (OutlineNotPossibleException)
        {
            return Fill(json, map);
        }
        if (!read)
            return false;
        scan.AddTo(map);
        if (scan.Entries.Count > 0)
        {
            var root = scan.Root;
            // By the entry's index in the array (an item that is not an object has nothing left to scan).
            var entries = new (int Start, int End, LineIndex.State Line)?[scan.Entries[^1].Index + 1];
            foreach (var (index, start, end, line) in scan.Entries)
                entries[index] = (start, end, line);
            map.SetPendingEntries(root + ".entry", Array.ConvertAll(entries, e => e is not null), (target, index) =>
            {
                var (start, end, lineState) = entries[index]!.Value;
                var entryScan = new Scan(bytes, new LineIndex(bytes, lineState), outline: false) { RootOverride = root };
                var stack = new Stack<Frame>();
                stack.Push(new Frame("", false, 0));
                stack.Push(new Frame(".entry", true, index));
                // The entry was read whole by the outline, so this cannot fail.
                entryScan.Run(start, end, stack);
                entryScan.AddTo(target);
            });
        }
        return true;
    }

    /// <summary>Thrown inside the outline scan when the text has a shape only the whole scan records alike.</summary>
    private sealed class OutlineNotPossibleException : Exception;

    /// <summary>One reader pass over a range of the text, collecting element keys (relative to the root) and positions.</summary>
    private sealed class Scan(byte[] bytes, LineIndex lines, bool outline)
    {
        public List<(string Key, SourcePosition Position)> Relative { get; } = [];
        public List<(string Key, int Index)> BundleEntries { get; } = [];

        /// <summary>Outline only: the byte range of each entry item and the line state at its start.</summary>
        public List<(int Index, int Start, int End, LineIndex.State Line)> Entries { get; } = [];

        private string? _rootType;

        /// <summary>The root's type when the range scanned does not include the root's resourceType (an entry's content).</summary>
        public string? RootOverride { get; init; }

        public string Root => RootOverride ?? _rootType ?? "Resource";

        /// <summary>Reads the range; false when the text is not a JSON object (nothing is kept then).</summary>
        public bool Run(int start, int end, Stack<Frame> stack)
        {
            var reader = new Utf8JsonReader(bytes.AsSpan(start, end - start), Options);
            string? name = null;
            SourcePosition namePosition = default;
            var entryProperties = 0;
            try
            {
                while (reader.Read())
                {
                    var tokenOffset = start + (int)reader.TokenStartIndex;
                    var tokenPosition = lines.PositionOf(tokenOffset);
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.PropertyName:
                            name = reader.GetString()!;
                            // A primitive's id and extensions ("_birthDate") sit where the primitive does.
                            if (name.Length > 1 && name[0] == '_')
                                name = name[1..];
                            namePosition = tokenPosition;
                            // Two top-level "entry" (or "_entry") properties share their keys; only the whole scan keeps the first alike.
                            if (outline && stack.Count == 1 && name == "entry" && ++entryProperties > 1)
                                throw new OutlineNotPossibleException();
                            break;
                        case JsonTokenType.StartObject when stack.Count == 0:
                            stack.Push(new Frame("", false, 0));
                            break;
                        case JsonTokenType.StartObject:
                        {
                            var key = ElementKey(stack.Peek(), name);
                            Relative.Add((key, stack.Peek().IsArray ? tokenPosition : namePosition));
                            var isEntry = stack.Count == 2 && stack.Peek() is { IsArray: true, Key: ".entry" };
                            if (isEntry)
                                BundleEntries.Add((key, stack.Peek().ArrayIndex));
                            if (outline && isEntry)
                            {
                                var lineState = lines.Current;
                                var index = stack.Peek().ArrayIndex;
                                reader.Skip();
                                Entries.Add((index, tokenOffset, start + (int)reader.BytesConsumed, lineState));
                                AdvanceArray(stack);
                                break;
                            }
                            stack.Push(new Frame(key, false, 0));
                            break;
                        }
                        case JsonTokenType.StartArray when stack.Count == 0:
                            return false;
                        case JsonTokenType.StartArray:
                            if (outline && stack.Count == 2 && stack.Peek() is { IsArray: true, Key: ".entry" })
                                throw new OutlineNotPossibleException();
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
                                _rootType = reader.GetString();
                            Relative.Add((ElementKey(stack.Peek(), name), stack.Peek().IsArray ? tokenPosition : namePosition));
                            AdvanceArray(stack);
                            break;
                    }
                }
            }
            catch (JsonException)
            {
                return false;
            }
            return true;
        }

        /// <summary>Adds what was read to the map, keys prefixed with the root's type (the root itself too, when the root was read).</summary>
        public void AddTo(SourceMap map)
        {
            var root = Root;
            if (RootOverride is null)
                map.Add(root, new SourcePosition(1, 1));
            foreach (var (key, position) in Relative)
                map.Add(root + key, position);
            // An entry's own scan finds only the entry itself, which the outline recorded: the entries are not touched again.
            if (root == "Bundle" && RootOverride is null)
            {
                foreach (var (key, index) in BundleEntries)
                    map.AddBundleEntry(root + key, index);
            }
        }
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

        /// <summary>An index that goes on from a state an earlier index reached (an entry's content, scanned later).</summary>
        public LineIndex(byte[] bytes, State from)
            : this(bytes) => (_line, _offset, _column) = (from.Line, from.Offset, from.Column);

        /// <summary>Where the index stands: the last offset asked for and its line and column.</summary>
        public readonly record struct State(int Line, int Offset, int Column);

        public State Current => new(_line, _offset, _column);

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
