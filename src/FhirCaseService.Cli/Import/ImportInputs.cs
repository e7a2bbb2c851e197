using System.Text.Json;

namespace FhirCaseService.Cli.Import;

/// <summary>One file to import: the path as the user sees it, where it is, and whether it is NDJSON or one JSON resource.</summary>
public sealed record ImportFile(string DisplayPath, string FullPath, bool IsNdjson);

/// <summary>The files an argument list expands to, the files skipped (with why), or the usage errors that stop the run (exit 2).</summary>
public sealed record ImportInputExpansion(IReadOnlyList<ImportFile> Files, IReadOnlyList<string> Skipped, IReadOnlyList<string> Errors);

/// <summary>
/// Expands the positional arguments of `fhircase import` (and of `fhircase summary`, which reads the same inputs): files as given (*.ndjson and *.jsonl are NDJSON, anything else
/// one JSON resource or Bundle), folders recursively (*.ndjson and *.json, ordinal path order, hidden files and folders
/// skipped). A JSON file must hold a FHIR resource: one named on its own that does not is an error; one a folder search
/// found (a Bulk Data manifest.json, package.json) is skipped. Each file is imported once, at its first mention.
/// </summary>
public static class ImportInputs
{
    public static ImportInputExpansion Expand(IReadOnlyList<string> arguments, string workingDirectory)
    {
        var files = new List<ImportFile>();
        var skipped = new List<string>();
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);

        void Add(string display, string full, bool named)
        {
            if (!seen.Add(full))
                return;
            var isNdjson = IsNdjsonPath(full);
            if (!isNdjson && NotAResource(full) is { } reason)
            {
                if (named)
                    errors.Add($"{display}: {reason}");
                else
                    skipped.Add(display);
                return;
            }
            files.Add(new ImportFile(display, full, isNdjson));
        }

        foreach (var argument in arguments)
        {
            var full = Path.GetFullPath(argument, workingDirectory);
            if (File.Exists(full))
            {
                Add(argument, full, named: true);
            }
            else if (Directory.Exists(full))
            {
                var found = FilesUnder(full).ToList();
                if (found.Count == 0)
                    errors.Add($"{argument}: folder has no .ndjson or .json file");
                foreach (var file in found)
                    Add(Path.Join(argument, Path.GetRelativePath(full, file)).Replace('\\', '/'), file, named: false);
            }
            else
            {
                errors.Add($"{argument}: no such file or folder");
            }
        }
        return new ImportInputExpansion(files, skipped, errors);
    }

    public static bool IsNdjsonPath(string path) =>
        path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> FilesUnder(string folder)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System };
        return Directory.EnumerateFiles(folder, "*", options)
            .Where(f => !Path.GetRelativePath(folder, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Where(f => IsNdjsonPath(f) || f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
    }

    /// <summary>Why a JSON file is no FHIR resource, or null when it is one (an object with a resourceType).</summary>
    private static string? NotAResource(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("resourceType", out var type) && type.ValueKind == JsonValueKind.String
                ? null
                : "not a FHIR resource (a JSON object with a resourceType)";
        }
        catch (JsonException e)
        {
            return $"not JSON: {e.Message}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read: {e.Message}";
        }
    }
}
