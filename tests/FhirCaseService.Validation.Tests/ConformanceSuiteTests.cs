namespace FhirCaseService.Validation.Tests;

/// <summary>
/// Our engine against the HL7 reference validator's expected outcomes (shared/conformance/fhir-test-cases).
/// FHIRCASE_WRITE_CONFORMANCE_DOC=1 rewrites docs/validation-conformance.md from this run.
/// </summary>
public sealed class ConformanceSuiteTests(ConformanceSuiteRun run) : IClassFixture<ConformanceSuiteRun>
{
    [Fact]
    public void Agreement_does_not_drop_below_the_recorded_baseline()
    {
        var baseline = ConformanceBaseline.Load();
        if (Environment.GetEnvironmentVariable("FHIRCASE_WRITE_CONFORMANCE_DOC") == "1")
            File.WriteAllText(ConformanceDocument.FilePath, ConformanceDocument.Render(run.Suite, run.Results, run.Elapsed, baseline));

        var agreeOnCount = run.Results.Count(r => r.AgreesOnCount);
        var agreeOnLocations = run.Results.Count(r => r.AgreesOnLocations);

        Assert.True(agreeOnCount >= baseline.StepsAgreeingOnCount,
            $"{agreeOnCount} steps agree on error count, fewer than the recorded {baseline.StepsAgreeingOnCount}. Newly disagreeing: see {ConformanceDocument.RegenerateCommand}");
        Assert.True(agreeOnLocations >= baseline.StepsAgreeingOnLocations,
            $"{agreeOnLocations} steps agree on error locations, fewer than the recorded {baseline.StepsAgreeingOnLocations}.");
    }

    [Fact]
    public void Every_case_and_step_of_the_suite_has_a_verdict()
    {
        var expectedSteps = run.Suite.Cases.Sum(c => c.Profile is not null && c.Expected.Profile is not null ? 2 : 1);

        Assert.Equal(expectedSteps, run.Results.Count);
        Assert.All(run.Results.Where(r => r.Verdict == ConformanceVerdict.Skipped), r => Assert.False(string.IsNullOrWhiteSpace(r.Detail)));
    }

    [Fact]
    public void Every_case_named_in_the_documented_differences_is_in_the_suite()
    {
        var names = run.Suite.Cases.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);

        Assert.All(ConformanceDocument.CasesNamed, name => Assert.Contains(name, names));
    }

    [Fact]
    public void Whole_suite_runs_within_two_minutes() =>
        Assert.True(run.Elapsed < TimeSpan.FromMinutes(2), $"the conformance suite took {run.Elapsed.TotalSeconds:0} s");
}
