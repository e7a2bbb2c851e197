using System.Text.Json;
using System.Text.Json.Serialization;

namespace FhirCaseService.Validation.Tests;

/// <summary>The outcome the HL7 reference validator expects for one step: its error count and its issues.</summary>
public sealed record ConformanceExpectation(
    [property: JsonPropertyName("errors")] int Errors,
    [property: JsonPropertyName("issues")] IReadOnlyList<ConformanceExpectedIssue> Issues)
{
    /// <summary>Where the expected errors (error or fatal) sit.</summary>
    public IReadOnlyList<string> ErrorExpressions =>
        Issues.Where(i => i.Severity is "error" or "fatal").Select(i => ConformanceExpressions.Normalize(i.Expression)).ToList();
}

public sealed record ConformanceExpectedIssue(
    [property: JsonPropertyName("severity")] string Severity,
    [property: JsonPropertyName("code")] string? Code,
    [property: JsonPropertyName("expression")] string? Expression,
    [property: JsonPropertyName("text")] string? Text);

/// <summary>The second step of a case: validate against the StructureDefinition in <see cref="Source"/>.</summary>
public sealed record ConformanceProfileStep(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("supporting")] IReadOnlyList<string> Supporting);

public sealed record ConformanceExpected(
    [property: JsonPropertyName("base")] ConformanceExpectation Base,
    [property: JsonPropertyName("profile")] ConformanceExpectation? Profile);

/// <summary>One case of cases.json (see shared/conformance/README.md). Unlisted fields are the reference validator's options.</summary>
public sealed record ConformanceCase(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("module")] string Module,
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("supporting")] IReadOnlyList<string> Supporting,
    [property: JsonPropertyName("profile")] ConformanceProfileStep? Profile,
    [property: JsonPropertyName("expected")] ConformanceExpected Expected)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Options { get; init; }
}

/// <summary>The case list and where its files are.</summary>
public sealed record ConformanceSuite(string Directory, IReadOnlyList<ConformanceCase> Cases)
{
    private sealed record CasesFile([property: JsonPropertyName("cases")] IReadOnlyList<ConformanceCase> Cases);

    public string FilePath(string name) => Path.Combine(Directory, "files", name);

    /// <summary>
    /// CI clones the repository with a copy of shared/ beside it, so the suite sits at
    /// &lt;repo root&gt;/../shared/conformance/fhir-test-cases. Missing suite = a failure that says where it looked.
    /// </summary>
    public static ConformanceSuite Load()
    {
        var directory = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "conformance", "fhir-test-cases"));
        var casesPath = Path.Combine(directory, "cases.json");
        if (!System.IO.File.Exists(casesPath))
            throw new InvalidOperationException(
                $"The validator conformance suite is missing: expected {casesPath} (shared/ beside the repository root, as CI lays it out).");
        var parsed = JsonSerializer.Deserialize<CasesFile>(System.IO.File.ReadAllBytes(casesPath))
            ?? throw new InvalidOperationException($"{casesPath} holds no cases");
        return new ConformanceSuite(directory, parsed.Cases);
    }

    public static string RepositoryRoot() => FhirCaseService.TestSupport.RepositoryRoot.Path;
}

/// <summary>How FHIRPath locations are compared between the reference validator and ours.</summary>
public static class ConformanceExpressions
{
    /// <summary>
    /// The reference validator annotates resources inside Bundles with comments (`resource/*Patient/p1*/.gender`);
    /// they carry no location, so they are dropped. No location at all (the whole document could not be read)
    /// is spelled null or "None" by the reference validator, "(document)" or "(xml)" by either side: all compare as "".
    /// </summary>
    public static string Normalize(string? expression)
    {
        if (string.IsNullOrEmpty(expression) || expression is "None" or "(document)" or "(xml)")
            return string.Empty;
        var text = expression;
        int start;
        while ((start = text.IndexOf("/*", StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf("*/", start + 2, StringComparison.Ordinal);
            if (end < 0)
                break;
            text = text[..start] + text[(end + 2)..];
        }
        return text;
    }

    /// <summary>Same multiset of locations, order ignored.</summary>
    public static bool SameLocations(IEnumerable<string> expected, IEnumerable<string> actual) =>
        expected.Order(StringComparer.Ordinal).SequenceEqual(actual.Order(StringComparer.Ordinal), StringComparer.Ordinal);
}
