using System.Text.Json;
using System.Text.Json.Serialization;
using FhirCaseService.TestSupport;

namespace FhirCaseService.Validation.Differential.Tests;

/// <summary>
/// One explained, justified difference between the engines (known-differences.json): the errors one engine reports and
/// the other does not, recognised by <see cref="Match"/>, with what the HL7 reference validator does and why they differ.
/// </summary>
public sealed record KnownDifference(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("reportedBy")] string ReportedBy,
    [property: JsonPropertyName("match")] string Match,
    [property: JsonPropertyName("hl7")] string Hl7,
    [property: JsonPropertyName("referenceSidesWith")] string ReferenceSidesWith,
    [property: JsonPropertyName("why")] string Why)
{
    public const string Ours = "ours";
    public const string Firely = "firely";

    /// <summary>For Firely, a piece of its message text; for us, a rule id.</summary>
    public bool Covers(string engine, ReportedError error) => engine == ReportedBy && (engine == Ours
        ? error.Rule == Match
        : error.Message.Contains(Match, StringComparison.Ordinal));
}

public sealed record KnownDifferenceList([property: JsonPropertyName("differences")] IReadOnlyList<KnownDifference> Differences)
{
    public const string RelativePath = "tests/FhirCaseService.Validation.Differential.Tests/known-differences.json";

    public static KnownDifferenceList Load() =>
        JsonSerializer.Deserialize<KnownDifferenceList>(File.ReadAllBytes(RepositoryRoot.Combine(RelativePath.Split('/'))))
        ?? throw new InvalidOperationException($"{RelativePath} is empty.");

    /// <summary>The errors no known difference explains: what is left to compare.</summary>
    public IReadOnlyList<ReportedError> Unexplained(string engine, Opinion opinion) =>
        opinion.Errors.Where(e => !Differences.Any(d => d.Covers(engine, e))).ToList();
}
