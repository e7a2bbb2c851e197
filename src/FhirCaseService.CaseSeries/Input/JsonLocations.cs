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
        var lineStarts = LineStarts(utf8);
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
            locations._positions.TryAdd(path, Position(lineStarts, utf8, reader.TokenStartIndex));

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

    private static List<long> LineStarts(byte[] utf8)
    {
        var starts = new List<long> { 0 };
        for (var i = 0; i < utf8.Length; i++)
            if (utf8[i] == (byte)'\n')
                starts.Add(i + 1);
        return starts;
    }

    private static (int Line, int Column) Position(List<long> lineStarts, byte[] utf8, long offset)
    {
        var index = lineStarts.BinarySearch(offset);
        var line = index >= 0 ? index : ~index - 1;
        var start = (int)lineStarts[line];
        var column = Encoding.UTF8.GetCharCount(utf8, start, (int)offset - start) + 1;
        return (line + 1, column);
    }

    private sealed class Container(string path, bool isArray)
    {
        public string Path { get; } = path;
        public bool IsArray { get; } = isArray;
        public int NextIndex { get; set; }
    }
}
