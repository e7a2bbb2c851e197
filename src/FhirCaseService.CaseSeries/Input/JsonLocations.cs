using System.Text;
using System.Text.Json;

namespace FhirCaseService.CaseSeries.Input;

/// <summary>
/// Line and column (1-based) of every value in a JSON text, keyed by the same field paths the reader uses
/// ("patients[0].relapses[1].date"). JsonDocument does not keep positions, so one forward pass with
/// Utf8JsonReader records them before the document is read.
/// </summary>
internal sealed class JsonLocations
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    private JsonLocations() { }

    public (int Line, int Column)? Find(string path)
    {
        // A missing field has no position of its own: report the nearest enclosing value that has one.
        for (var candidate = path; ; candidate = Parent(candidate))
        {
            if (_positions.TryGetValue(candidate, out var position))
                return position;
            if (candidate.Length == 0)
                return null;
        }
    }

    public static JsonLocations Scan(byte[] utf8, JsonDocumentOptions options)
    {
        var locations = new JsonLocations();
        var positions = new PositionCursor(utf8);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = options.CommentHandling, AllowTrailingCommas = options.AllowTrailingCommas });
        var containers = new Stack<Container>();
        string? pendingProperty = null;

        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingProperty = reader.GetString();
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
            {
                containers.Pop();
                continue;
            }

            var path = ValuePath(containers, pendingProperty);
            pendingProperty = null;
            locations._positions.TryAdd(path, positions.MoveTo(reader.TokenStartIndex));

            if (reader.TokenType == JsonTokenType.StartObject)
                containers.Push(new Container(path, isArray: false));
            else if (reader.TokenType == JsonTokenType.StartArray)
                containers.Push(new Container(path, isArray: true));
        }
        return locations;
    }

    private static string ValuePath(Stack<Container> containers, string? property)
    {
        if (containers.Count == 0)
            return "";
        var parent = containers.Peek();
        if (parent.IsArray)
            return $"{parent.Path}[{parent.NextIndex++}]";
        return parent.Path.Length == 0 ? property! : $"{parent.Path}.{property}";
    }

    internal static string Parent(string path)
    {
        var dot = path.LastIndexOf('.');
        var bracket = path.LastIndexOf('[');
        var cut = Math.Max(dot, bracket);
        return cut <= 0 ? "" : path[..cut];
    }

    /// <summary>
    /// Line and column of increasing byte offsets. Each move counts only the bytes since the previous one, so a file
    /// written on one line (as HTTP clients send JSON) costs one pass, not one pass per value.
    /// </summary>
    private sealed class PositionCursor(byte[] utf8)
    {
        private int _offset;
        private int _line = 1;
        private int _column = 1;

        public (int Line, int Column) MoveTo(long target)
        {
            var end = (int)target;
            while (_offset < end)
            {
                var newline = Array.IndexOf(utf8, (byte)'\n', _offset, end - _offset);
                if (newline < 0)
                {
                    _column += Encoding.UTF8.GetCharCount(utf8, _offset, end - _offset);
                    _offset = end;
                }
                else
                {
                    _line++;
                    _column = 1;
                    _offset = newline + 1;
                }
            }
            return (_line, _column);
        }
    }

    private sealed class Container(string path, bool isArray)
    {
        public string Path { get; } = path;
        public bool IsArray { get; } = isArray;
        public int NextIndex { get; set; }
    }
}
