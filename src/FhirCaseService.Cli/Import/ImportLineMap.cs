namespace FhirCaseService.Cli.Import;

/// <summary>
/// Which file (and line, or Bundle entry) each line of an $import body came from, so the server's "line N: ..." can be
/// shown as "patients.ndjson:17" or "bundle.json Bundle.entry[3]". Kept compact: a run of body lines that map to consecutive
/// source lines of one file is one segment, so an NDJSON file without blank lines costs one entry however long it is.
/// </summary>
public sealed class ImportLineMap
{
    /// <summary>Body lines from <see cref="FirstBodyLine"/> on come from File, starting at SourceLine (NDJSON) or Entry (Bundle).</summary>
    private sealed record Segment(long FirstBodyLine, ImportFile File, long? SourceLine, long? Entry);

    private readonly List<Segment> _segments = [];

    /// <summary>Body lines recorded so far (1-based numbering: the next line is LineCount + 1).</summary>
    public long LineCount { get; private set; }

    public void Add(ImportFile file, long? sourceLine, long? entry)
    {
        var bodyLine = ++LineCount;
        if (_segments.Count > 0 && _segments[^1] is var last && ReferenceEquals(last.File, file)
            && Continues(last.SourceLine, sourceLine, bodyLine - last.FirstBodyLine) && Continues(last.Entry, entry, bodyLine - last.FirstBodyLine))
            return;
        _segments.Add(new Segment(bodyLine, file, sourceLine, entry));
    }

    /// <summary>"patients.ndjson:17", "bundle.json Bundle.entry[3]", "patient.json"; null for a line number the body did not have.</summary>
    public string? Describe(long bodyLine)
    {
        if (bodyLine < 1 || bodyLine > LineCount)
            return null;
        var low = 0;
        var high = _segments.Count - 1;
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (_segments[middle].FirstBodyLine <= bodyLine)
                low = middle;
            else
                high = middle - 1;
        }
        var segment = _segments[low];
        var offset = bodyLine - segment.FirstBodyLine;
        if (segment.SourceLine is { } line)
            return $"{segment.File.DisplayPath}:{line + offset}";
        if (segment.Entry is { } entry)
            return $"{segment.File.DisplayPath} Bundle.entry[{entry + offset}]";
        return segment.File.DisplayPath;
    }

    private static bool Continues(long? first, long? current, long offset) =>
        first is null ? current is null : current == first + offset;
}
