namespace FhirCaseService.Validation.Tests;

/// <summary>The generated report's headline figure, on hand-made step results.</summary>
public sealed class ConformanceDocumentTests
{
    private static ConformanceStepResult Step(string name, ConformanceVerdict verdict) =>
        new(name, "general", "base", verdict, 1, verdict == ConformanceVerdict.Skipped ? null : 1, ["Patient"], ["Patient"], verdict == ConformanceVerdict.Skipped ? "option not implemented" : null);

    [Fact]
    public void Headline_counts_skipped_steps_as_disagreements()
    {
        var suite = new ConformanceSuite(Path.GetTempPath(), []);
        var results = new[]
        {
            Step("a", ConformanceVerdict.Agree),
            Step("b", ConformanceVerdict.Agree),
            Step("c", ConformanceVerdict.LocationsDiffer),
            Step("d", ConformanceVerdict.Skipped),
        };

        var text = ConformanceDocument.Render(suite, results, TimeSpan.FromSeconds(1), new ConformanceBaseline(0, 0, new Dictionary<string, string>()));

        Assert.Contains("**Agreement on count: 3/4 (75.0 %) of all steps**", text, StringComparison.Ordinal);
        Assert.Contains("**on locations: 2/4 (50.0 %)**", text, StringComparison.Ordinal);
    }
}
