namespace FhirCaseService.Validation.Tests;

/// <summary>
/// The repository's examples judged by our engine: valid ones (examples/bundles, examples/resources) have no error;
/// each invalid one (examples/invalid) fails with exactly the issue its sidecar names. Files listed under
/// exampleKnownGaps in conformance-baseline.json are ones the engine cannot judge yet: for them the test requires
/// that they still fall short, so a fix shows up as a failure asking to remove the entry.
/// </summary>
public sealed class ExamplesTests
{
    private static readonly IReadOnlyDictionary<string, string> KnownGaps = ConformanceBaseline.Load().ExampleKnownGaps;

    public static TheoryData<string> ValidExamples() => new(ExamplesCheck.ValidFolders.SelectMany(ExamplesCheck.ExampleFiles));

    public static TheoryData<string> InvalidExamples() => new(ExamplesCheck.ExampleFiles(ExamplesCheck.InvalidFolder));

    [Theory]
    [MemberData(nameof(ValidExamples))]
    public async Task Valid_example_has_no_error(string file) =>
        AssertAsRecorded(file, await ExamplesCheck.ValidExampleShortfallAsync(file));

    [Theory]
    [MemberData(nameof(InvalidExamples))]
    public async Task Invalid_example_fails_with_exactly_its_expected_issue(string file) =>
        AssertAsRecorded(file, await ExamplesCheck.InvalidExampleShortfallAsync(file));

    [Fact]
    public void Every_known_gap_names_an_existing_example()
    {
        var examples = ExamplesCheck.ValidFolders.Append(ExamplesCheck.InvalidFolder).SelectMany(ExamplesCheck.ExampleFiles).ToHashSet();

        Assert.All(KnownGaps.Keys, file => Assert.Contains(file, examples));
    }

    private static void AssertAsRecorded(string file, string? shortfall)
    {
        if (KnownGaps.TryGetValue(file, out var reason))
            Assert.True(shortfall is not null, $"{file} now meets its expectation: remove it from exampleKnownGaps in conformance-baseline.json (recorded reason: {reason})");
        else
            Assert.True(shortfall is null, shortfall);
    }
}
