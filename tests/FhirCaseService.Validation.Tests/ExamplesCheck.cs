using System.Text.Json;
using System.Text.Json.Serialization;
using FhirCaseService.Conformance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests;

/// <summary>The sidecar of an invalid example: the one issue a validator must report for it (examples/invalid/README.md).</summary>
public sealed record ExpectedExampleIssue(
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("expression")] string Expression,
    [property: JsonPropertyName("description")] string Description);

/// <summary>
/// Validates the repository's examples with our engine over core R4 and our bundled package, and says in words how
/// a file falls short of what is expected of it (null when it meets it).
/// </summary>
public static class ExamplesCheck
{
    /// <summary>Folders whose files must validate with no error.</summary>
    public static IReadOnlyList<string> ValidFolders { get; } = ["examples/bundles", "examples/resources"];

    public const string InvalidFolder = "examples/invalid";

    private static readonly Lazy<FhirValidator> Validator = new(() => new FhirValidator(ConformanceContext.CreateDefault()));

    /// <summary>Repository-relative paths ('/' separators) of the example resources in <paramref name="folder"/>, sidecars excluded.</summary>
    public static IEnumerable<string> ExampleFiles(string folder)
    {
        var directory = Path.Combine(ConformanceSuite.RepositoryRoot(), folder);
        if (!Directory.Exists(directory))
            return [];
        return Directory.EnumerateFiles(directory, "*.json", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(ConformanceSuite.RepositoryRoot(), f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
    }

    public static async Task<string?> ValidExampleShortfallAsync(string file)
    {
        var result = await ValidateAsync(file);
        var errors = Errors(result).ToList();
        return errors.Count == 0 ? null : $"{file} should have no error but has {errors.Count}: {Describe(errors)}";
    }

    public static async Task<string?> InvalidExampleShortfallAsync(string file)
    {
        var sidecarPath = Path.Combine(ConformanceSuite.RepositoryRoot(), Path.ChangeExtension(file, ".expected.json"));
        if (!File.Exists(sidecarPath))
            return $"{file} has no sidecar {Path.GetFileName(sidecarPath)}";
        var expected = JsonSerializer.Deserialize<ExpectedExampleIssue>(File.ReadAllBytes(sidecarPath))
            ?? throw new InvalidOperationException($"{sidecarPath} is empty");

        var result = await ValidateAsync(file);
        var errors = Errors(result).ToList();
        bool IsExpected(ValidationIssue issue) =>
            issue.Rule == expected.Rule
            && issue.Location.Expression == expected.Expression
            && string.Equals(issue.Severity.ToString(), expected.Severity, StringComparison.OrdinalIgnoreCase);

        var wanted = $"{expected.Severity} {expected.Rule} at {expected.Expression}";
        if (expected.Severity == "error")
        {
            if (errors.Count == 1 && IsExpected(errors[0]))
                return null;
            return $"{file} should fail with exactly {wanted}, but its errors are: {(errors.Count == 0 ? "none" : Describe(errors))}";
        }
        if (errors.Count == 0 && result.Issues.Any(IsExpected))
            return null;
        return $"{file} should report {wanted} and no error, but reports: {Describe(result.Issues)}";
    }

    private static async Task<ValidationResult> ValidateAsync(string file)
    {
        var content = await File.ReadAllTextAsync(Path.Combine(ConformanceSuite.RepositoryRoot(), file));
        return await Validator.Value.ValidateAsync(content, ResourceFormat.Json);
    }

    private static IEnumerable<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    private static string Describe(IEnumerable<ValidationIssue> issues) =>
        string.Join("; ", issues.Select(i => $"{i.Severity.ToString().ToLowerInvariant()} {i.Rule} at {i.Location.Expression} ({i.Message})"));
}
