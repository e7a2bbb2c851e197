namespace FhirCaseService.Validation.Instance;

/// <summary>A 1-based position in the text of the input.</summary>
public readonly record struct SourcePosition(int Line, int Column);

/// <summary>
/// Positions of every element of a parsed text, keyed by <see cref="InstancePath.SourceKey"/>. Built once per input
/// by a light scan of the text, so positions cost nothing during the walk.
/// </summary>
public sealed class SourceMap
{
    private readonly Dictionary<string, SourcePosition> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _bundleEntries = new(StringComparer.Ordinal);

    internal void Add(string key, SourcePosition position) => _positions.TryAdd(key, position);

    /// <summary>Records that the element at <paramref name="key"/> is entry <paramref name="index"/> of the root Bundle.</summary>
    internal void AddBundleEntry(string key, int index) => _bundleEntries.TryAdd(key, index);

    public int Count => _positions.Count;

    /// <summary>Whether every property name of the text is spelled exactly as some R4 element is (<see cref="ElementNames"/>); JSON only.</summary>
    internal bool AllNamesKnown { get; init; }

    /// <summary>The position of the element, or of its nearest recorded ancestor (a missing element is reported where its parent is).</summary>
    public SourcePosition? Find(string sourceKey)
    {
        var key = sourceKey;
        while (true)
        {
            if (_positions.TryGetValue(key, out var position))
                return position;
            var cut = key.LastIndexOf('.');
            if (cut < 0)
                return null;
            key = key[..cut];
        }
    }

    /// <summary>The index of the root Bundle's entry that holds the element (null: the Bundle itself, or not a Bundle).</summary>
    public int? EntryOf(string sourceKey)
    {
        if (_bundleEntries.Count == 0)
            return null;
        var key = sourceKey;
        while (true)
        {
            if (_bundleEntries.TryGetValue(key, out var index))
                return index;
            var cut = key.LastIndexOf('.');
            if (cut < 0)
                return null;
            key = key[..cut];
        }
    }

    /// <summary>
    /// The key of an element named by the SDK parser's instance path ("Observation.component[1].value.value"), whose
    /// indexes are those of arrays only and whose choice elements lack their type suffix.
    /// </summary>
    public string? KeyForParserPath(string instancePath)
    {
        var segments = instancePath.Split('.');
        var key = segments[0];
        if (!_positions.ContainsKey(key))
            return null;
        foreach (var segment in segments.Skip(1))
        {
            var bracket = segment.IndexOf('[');
            var name = bracket < 0 ? segment : segment[..bracket];
            var index = bracket < 0 ? "[0]" : segment[bracket..];
            var next = $"{key}.{name}{index}";
            if (!_positions.ContainsKey(next))
            {
                var choicePrefix = $"{key}.{name}";
                next = _positions.Keys.FirstOrDefault(k => k.StartsWith(choicePrefix, StringComparison.Ordinal) && k.EndsWith(index, StringComparison.Ordinal)
                    && k.Length > choicePrefix.Length && char.IsUpper(k[choicePrefix.Length]) && k.IndexOf('.', choicePrefix.Length) < 0) ?? "";
                if (next.Length == 0)
                    return key;
            }
            key = next;
        }
        return key;
    }
}
