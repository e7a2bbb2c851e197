namespace FhirCaseService.CaseSeries.Input;

/// <summary>
/// The field paths of one patient that are illustrative (assigned, not reported by the source). A path
/// covers itself and everything below it; "[*]" matches any index. Paths are relative to the patient,
/// e.g. "diagnosis.date", "relapses[*].date", "hsct".
/// </summary>
public sealed class IllustrativeFields
{
    private readonly string[][] _patterns;

    public IllustrativeFields(IReadOnlyList<string> paths)
    {
        Paths = paths;
        _patterns = paths.Select(Split).ToArray();
    }

    public IReadOnlyList<string> Paths { get; }

    /// <summary>
    /// Whether anything at <paramref name="relativePath"/> is illustrative: the field itself, a field above it
    /// (listing "hsct" covers "hsct.date") or a field below it (listing "hsct.date" touches "hsct").
    /// </summary>
    public bool Touches(string relativePath)
    {
        var segments = Split(relativePath);
        return _patterns.Any(pattern => pattern.Zip(segments).All(pair => Matches(pair.First, pair.Second)));
    }

    private static bool Matches(string pattern, string segment) => pattern == segment || (pattern == "[*]" && segment.StartsWith('['));

    /// <summary>"relapses[0].date" -> ["relapses", "[0]", "date"].</summary>
    internal static string[] Split(string path) =>
        path.Replace("[", ".[", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);
}
