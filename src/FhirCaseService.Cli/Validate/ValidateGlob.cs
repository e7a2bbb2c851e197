namespace FhirCaseService.Cli.Validate;

/// <summary>
/// A path pattern with `*` (any characters within one path segment), `?` (one character) and `**` (any number of
/// whole segments, including none). Patterns use '/' (or '\') between segments. Written here instead of taking a
/// dependency because the CLI needs only these three wildcards, matched the same way on every platform.
/// </summary>
public sealed class ValidateGlob
{
    private readonly string[] _segments;
    private readonly StringComparison _comparison;

    private ValidateGlob(string baseDirectory, string[] segments, StringComparison comparison)
    {
        BaseDirectory = baseDirectory;
        _segments = segments;
        _comparison = comparison;
    }

    /// <summary>The fixed leading part of the pattern (no wildcards), "" when the pattern starts with a wildcard.</summary>
    public string BaseDirectory { get; }

    public static bool HasWildcards(string argument) => argument.IndexOfAny(['*', '?']) >= 0;

    public static ValidateGlob Parse(string pattern)
    {
        var comparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var normalized = pattern.Replace('\\', '/');
        var segments = normalized.Split('/');
        var firstWild = Array.FindIndex(segments, HasWildcards);
        if (firstWild < 0)
            return new ValidateGlob(string.Empty, [], comparison);

        var baseDirectory = string.Join('/', segments[..firstWild]);
        if (firstWild > 0 && baseDirectory.Length == 0)
            baseDirectory = "/";
        var rest = segments[firstWild..].Where(s => s.Length > 0 && s != ".").ToArray();
        return new ValidateGlob(baseDirectory, rest, comparison);
    }

    /// <summary>Does a path relative to <see cref="BaseDirectory"/>, with '/' separators, match the pattern?</summary>
    public bool Matches(string relativePath) => Match(_segments, 0, relativePath.Split('/'), 0);

    private bool Match(string[] pattern, int p, string[] path, int s)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] == "**")
            {
                // `**` absorbs zero or more whole segments: try every split point.
                for (var skip = s; skip <= path.Length; skip++)
                    if (Match(pattern, p + 1, path, skip))
                        return true;
                return false;
            }
            if (s >= path.Length || !MatchSegment(pattern[p], path[s]))
                return false;
            p++;
            s++;
        }
        return s == path.Length;
    }

    private bool MatchSegment(string pattern, string name)
    {
        // Classic two-pointer wildcard match with backtracking to the last '*'.
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || string.Equals(pattern[p].ToString(), name[n].ToString(), _comparison)))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }
}
