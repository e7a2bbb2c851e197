namespace FhirCaseService.Cli.Validate;

/// <summary>How a file's content is read: one resource as JSON or XML, or one JSON resource per line.</summary>
public enum ValidateInputKind { Json, Xml, Ndjson, Unknown }

/// <summary>
/// One file to validate: the path as the user will see it (relative stays relative, '/' separators) and where it is.
/// <paramref name="Named"/> is true when the user named this very file, false when a directory or pattern search
/// found it: a found JSON or XML file that is no FHIR resource (package.json, test sidecars) is skipped, not an error.
/// </summary>
public sealed record ValidateInput(string DisplayPath, string FullPath, ValidateInputKind Kind, bool Named = true);

/// <summary>The files an argument list expands to, or the usage errors that stop the run (exit 2).</summary>
public sealed record ValidateInputExpansion(IReadOnlyList<ValidateInput> Files, IReadOnlyList<string> Errors);

/// <summary>
/// Expands the positional arguments of `fhircase validate`: files as given (any extension: the content decides),
/// directories recursively (*.json, *.xml, *.ndjson; hidden folders such as .git are skipped) and glob patterns
/// (see <see cref="ValidateGlob"/>; matching files, and the files below matching folders, filtered to the same three
/// extensions). Each file appears once, at
/// its first mention; directory and glob matches come in ordinal path order so runs are reproducible.
/// </summary>
public static class ValidateInputs
{
    public static ValidateInputExpansion Expand(IReadOnlyList<string> arguments, string workingDirectory)
    {
        var files = new List<ValidateInput>();
        var seen = new HashSet<string>(OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        var errors = new List<string>();

        void Add(string displayPath, string fullPath, ValidateInputKind kind, bool named)
        {
            if (seen.Add(fullPath))
                files.Add(new ValidateInput(displayPath, fullPath, kind, named));
        }

        foreach (var argument in arguments)
        {
            if (ValidateGlob.HasWildcards(argument))
            {
                var matches = ExpandGlob(argument, workingDirectory);
                if (matches.Count == 0)
                    errors.Add($"{argument}: no .json, .xml or .ndjson file matches this pattern");
                foreach (var (display, full) in matches)
                    Add(display, full, KindOf(full), named: false);
                continue;
            }

            var fullPath = Path.GetFullPath(argument, workingDirectory);
            if (File.Exists(fullPath))
            {
                Add(Display(argument), fullPath, KindOf(fullPath), named: true);
            }
            else if (Directory.Exists(fullPath))
            {
                var found = FilesUnder(fullPath)
                    .Where(f => KindOf(f.Full) != ValidateInputKind.Unknown)
                    .ToList();
                if (found.Count == 0)
                    errors.Add($"{argument}: directory has no .json, .xml or .ndjson file");
                foreach (var (relative, full) in found)
                    Add(JoinDisplay(Display(argument), relative), full, KindOf(full), named: false);
            }
            else
            {
                errors.Add($"{argument}: no such file or directory");
            }
        }
        return new ValidateInputExpansion(files, errors);
    }

    /// <summary>The kind a file's extension announces; <see cref="ValidateInputKind.Unknown"/> lets the content decide.</summary>
    public static ValidateInputKind KindOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".json" => ValidateInputKind.Json,
        ".xml" => ValidateInputKind.Xml,
        ".ndjson" => ValidateInputKind.Ndjson,
        _ => ValidateInputKind.Unknown,
    };

    /// <summary>Files the pattern matches, and every FHIR file below a folder it matches (as a shell would pass the folder).</summary>
    private static List<(string Display, string Full)> ExpandGlob(string pattern, string workingDirectory)
    {
        var glob = ValidateGlob.Parse(pattern);
        var baseFull = Path.GetFullPath(glob.BaseDirectory.Length == 0 ? "." : glob.BaseDirectory, workingDirectory);
        if (!Directory.Exists(baseFull))
            return [];
        return FilesUnder(baseFull)
            .Where(f => KindOf(f.Full) != ValidateInputKind.Unknown && (glob.Matches(f.Relative) || FolderMatches(glob, f.Relative)))
            .Select(f => (JoinDisplay(Display(glob.BaseDirectory), f.Relative), f.Full))
            .ToList();
    }

    private static bool FolderMatches(ValidateGlob glob, string relativeFile)
    {
        for (var slash = relativeFile.IndexOf('/'); slash > 0; slash = relativeFile.IndexOf('/', slash + 1))
            if (glob.Matches(relativeFile[..slash]))
                return true;
        return false;
    }

    /// <summary>Files at any depth below <paramref name="root"/>, outside hidden folders, with '/'-separated relative paths, ordinal order.</summary>
    private static List<(string Relative, string Full)> FilesUnder(string root)
    {
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            ReturnSpecialDirectories = false,
        };
        return Directory.EnumerateFiles(root, "*", options)
            .Select(full => (Relative: Path.GetRelativePath(root, full).Replace('\\', '/'), Full: full))
            .Where(f => !f.Relative.Split('/').Any(segment => segment.StartsWith('.')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .ToList();
    }

    private static string Display(string argument)
    {
        var display = argument.Replace('\\', '/');
        while (display.StartsWith("./", StringComparison.Ordinal))
            display = display[2..];
        return display == "." ? string.Empty : display;
    }

    private static string JoinDisplay(string directory, string relative) =>
        directory.Length == 0 ? relative
        : directory.EndsWith('/') ? directory + relative
        : directory + "/" + relative;
}
