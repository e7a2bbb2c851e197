namespace FhirCaseService.Validation.Instance;

/// <summary>A 1-based position in the text of the input.</summary>
public readonly record struct SourcePosition(int Line, int Column);

/// <summary>
/// Positions of every element of a parsed text, keyed by <see cref="InstancePath.SourceKey"/>. Built by a light scan of
/// the text, so positions cost nothing during the walk. A JSON map is built on its first question
/// (<see cref="Deferred"/>): most resources are valid and no finding ever asks for a position, and the scan that builds
/// the map (a key string and a dictionary entry per element) cost about a tenth of a whole validation.
/// </summary>
public sealed class SourceMap
{
    private readonly Dictionary<string, SourcePosition> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _bundleEntries = new(StringComparer.Ordinal);
    private Dictionary<string, string>? _xmlPaths;

    /// <summary>Fills the map on first use; null once filled (or for a map filled when made).</summary>
    private volatile Action<SourceMap>? _fill;

    internal SourceMap()
    {
    }

    private SourceMap(Action<SourceMap> fill) => _fill = fill;

    /// <summary>A map whose positions <paramref name="fill"/> adds when they are first asked for (at most once, thread-safe).</summary>
    internal static SourceMap Deferred(Action<SourceMap> fill) => new(fill);

    internal void Add(string key, SourcePosition position) => _positions.TryAdd(key, position);

    /// <summary>
    /// Records the XML path of the element at <paramref name="key"/> as the reference validator's XML parser names it
    /// (<c>/f:Bundle/f:entry/f:resource/f:Patient/f:name</c>: every element on the way, the resource wrappers too, no indexes).
    /// </summary>
    internal void AddXmlPath(string key, string xmlPath) => (_xmlPaths ??= new(StringComparer.Ordinal))[key] = xmlPath;

    /// <summary>The XML path of the element at <paramref name="sourceKey"/> (XML input only; null for JSON or an unknown key).</summary>
    public string? XmlPathOf(string sourceKey)
    {
        EnsureFilled();
        return _xmlPaths?.GetValueOrDefault(sourceKey);
    }

    /// <summary>Records that the element at <paramref name="key"/> is entry <paramref name="index"/> of the root Bundle.</summary>
    internal void AddBundleEntry(string key, int index) => _bundleEntries.TryAdd(key, index);

    /// <summary>Builds a deferred map now. A text the scan cannot read leaves the map empty: it answers every question with null.</summary>
    internal void EnsureFilled()
    {
        if (_fill is null)
            return;
        lock (_positions)
        {
            if (_fill is { } fill)
            {
                fill(this);
                _fill = null;
            }
        }
    }

    /// <summary>Whether the positions are there (a deferred map not yet asked anything is not).</summary>
    internal bool IsFilled => _fill is null;

    /// <summary>Every recorded position and Bundle entry (for tests comparing maps).</summary>
    internal (IReadOnlyDictionary<string, SourcePosition> Positions, IReadOnlyDictionary<string, int> BundleEntries) Contents()
    {
        EnsureFilled();
        return (_positions, _bundleEntries);
    }

    public int Count
    {
        get
        {
            EnsureFilled();
            return _positions.Count;
        }
    }

    /// <summary>The position of the element, or of its nearest recorded ancestor (a missing element is reported where its parent is).</summary>
    public SourcePosition? Find(string sourceKey)
    {
        EnsureFilled();
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
        EnsureFilled();
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
        EnsureFilled();
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
                // The parser counts items of an array it rejects on its own (a single value written as an array, a null
                // item): the finding is about the element, whose first item the map holds.
                if (next.Length == 0 && bracket >= 0 && _positions.ContainsKey($"{key}.{name}[0]"))
                    next = $"{key}.{name}[0]";
                if (next.Length == 0)
                    return key;
            }
            key = next;
        }
        return key;
    }
}
