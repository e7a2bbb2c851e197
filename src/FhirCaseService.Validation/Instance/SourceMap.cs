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

    /// <summary>
    /// Entries whose content is scanned when a position inside one is first asked for (a big Bundle's): the key prefix
    /// of the entries ("Bundle.entry"), which are scanned already, and how to scan one. Null when none is left; only
    /// changed under the lock on <see cref="_positions"/>, and every read of the positions while it is set takes that
    /// lock, because a scan adds to the dictionary.
    /// </summary>
    private volatile PendingEntries? _pending;

    private sealed class PendingEntries(string prefix, bool[] pending, Action<SourceMap, int> fill)
    {
        private readonly bool[] _scanned = Array.ConvertAll(pending, p => !p);
        private int _left = pending.Count(p => p);

        public string Prefix { get; } = prefix;

        public bool AllScanned => _left == 0;

        public void Scan(SourceMap map, int index)
        {
            if (_scanned[index])
                return;
            fill(map, index);
            _scanned[index] = true;
            _left--;
        }

        public void ScanAll(SourceMap map)
        {
            for (var index = 0; index < _scanned.Length; index++)
                Scan(map, index);
        }

        /// <summary>The entry a key is inside ("Bundle.entry[12]" and below), or -1.</summary>
        public int EntryOf(string key)
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal) || key.Length < Prefix.Length + 3 || key[Prefix.Length] != '[')
                return -1;
            var close = key.IndexOf(']', Prefix.Length + 1);
            if (close < 0 || close + 1 < key.Length && key[close + 1] != '.'
                || !int.TryParse(key.AsSpan(Prefix.Length + 1, close - Prefix.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                return -1;
            return index < _scanned.Length ? index : -1;
        }
    }

    /// <summary>Called by the fill: the content of the entries under <paramref name="prefix"/> whose index is true in <paramref name="pending"/> is left to <paramref name="fill"/>, one entry at a time.</summary>
    internal void SetPendingEntries(string prefix, bool[] pending, Action<SourceMap, int> fill) => _pending = new PendingEntries(prefix, pending, fill);

    /// <summary>Builds a deferred map now (all of it). A text the scan cannot read leaves the map empty: it answers every question with null.</summary>
    internal void EnsureFilled()
    {
        EnsureOutlined();
        if (_pending is null)
            return;
        lock (_positions)
        {
            _pending?.ScanAll(this);
            _pending = null;
        }
    }

    /// <summary>Runs the deferred fill, which may leave entries for later (<see cref="SetPendingEntries"/>).</summary>
    private void EnsureOutlined()
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

    /// <summary>Whether the positions are there (a deferred map not yet asked anything is not; one whose entries are partly scanned is not either).</summary>
    internal bool IsFilled => _fill is null && _pending is null;

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
        EnsureOutlined();
        if (_pending is not null)
        {
            lock (_positions)
            {
                if (_pending is { } pending)
                {
                    if (pending.EntryOf(sourceKey) is var entry and >= 0)
                        pending.Scan(this, entry);
                    if (pending.AllScanned)
                        _pending = null;
                    return FindScanned(sourceKey);
                }
            }
        }
        return FindScanned(sourceKey);
    }

    private SourcePosition? FindScanned(string sourceKey)
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
        // The outline records every entry of a Bundle; a pending entry's content adds positions, not entries.
        EnsureOutlined();
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
