using System.Text.Json;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests;

/// <summary>The runner's own rules, on a two-case suite written to a temporary folder and a scripted engine.</summary>
public sealed class ConformanceRunnerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"fhircase-conformance-test-{Guid.NewGuid():N}");

    public ConformanceRunnerTests()
    {
        Directory.CreateDirectory(Path.Combine(_directory, "files"));
        File.WriteAllText(Path.Combine(_directory, "files", "good.json"), "{\"resourceType\":\"Patient\",\"id\":\"good\"}");
        File.WriteAllText(Path.Combine(_directory, "files", "crash.json"), "{\"resourceType\":\"Patient\",\"id\":\"crash\"}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>One error at Patient.gender for every input, except a throw for content containing "crash".</summary>
    private sealed class ScriptedValidator : IResourceValidator
    {
        public Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default) =>
            content.Contains("crash", StringComparison.Ordinal)
                ? throw new InvalidOperationException("engine bug")
                : System.Threading.Tasks.Task.FromResult(new ValidationResult([new ValidationIssue(OperationOutcome.IssueSeverity.Error,
                    OperationOutcome.IssueType.Required, "missing", new IssueLocation("Patient.gender", 1, 1), "cardinality-min")]));

        public Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public Task<ValidationResult> ValidateAsync(FhirCaseService.Validation.Instance.ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();
    }

    private static ConformanceCase Case(string name, string file, int errors, string? expression, Dictionary<string, JsonElement>? options = null) =>
        new(name, "general", file, [], null,
            new ConformanceExpected(new ConformanceExpectation(errors, expression is null ? [] : [new ConformanceExpectedIssue("error", "required", expression, "text")]), null))
        {
            Options = options,
        };

    private Task<IReadOnlyList<ConformanceStepResult>> Run(params ConformanceCase[] cases) =>
        new ConformanceRunner(new ConformanceSuite(_directory, cases), _ => new ScriptedValidator()).RunAllAsync();

    [Fact]
    public async System.Threading.Tasks.Task Same_count_and_location_agrees_and_another_location_only_agrees_on_count()
    {
        var results = await Run(
            Case("same", "good.json", 1, "Patient.gender"),
            Case("elsewhere", "good.json", 1, "Patient"),
            Case("none-expected", "good.json", 0, null));

        Assert.Equal([ConformanceVerdict.Agree, ConformanceVerdict.LocationsDiffer, ConformanceVerdict.CountDiffers], results.Select(r => r.Verdict));
        Assert.True(results[1].AgreesOnCount);
        Assert.False(results[1].AgreesOnLocations);
    }

    [Fact]
    public async System.Threading.Tasks.Task An_engine_exception_is_a_disagreement_of_that_case_only()
    {
        var results = await Run(Case("crash", "crash.json", 0, null), Case("same", "good.json", 1, "Patient.gender"));

        Assert.Equal(ConformanceVerdict.EngineFailure, results[0].Verdict);
        Assert.Contains("engine bug", results[0].Detail);
        Assert.Equal(ConformanceVerdict.Agree, results[1].Verdict);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_case_needing_an_unsupported_option_is_skipped_with_the_reason()
    {
        var option = new Dictionary<string, JsonElement> { ["security-checks"] = JsonSerializer.SerializeToElement(true) };

        var result = Assert.Single(await Run(Case("circle", "good.json", 1, "Patient.gender", option)));

        Assert.Equal(ConformanceVerdict.Skipped, result.Verdict);
        Assert.StartsWith("security-checks:", result.Detail);
    }

    [Theory]
    [InlineData("Bundle.entry[0].resource/*Patient/p1*/.gender", "Bundle.entry[0].resource.gender")]
    [InlineData("Bundle.entry[0].resource/*Composition/c*/", "Bundle.entry[0].resource")]
    [InlineData("None", "")]
    [InlineData(null, "")]
    [InlineData("(document)", "")]
    [InlineData("Observation.value.ofType(Quantity)", "Observation.value.ofType(Quantity)")]
    public void Reference_validator_comments_are_dropped_from_locations(string? expression, string normalized) =>
        Assert.Equal(normalized, ConformanceExpressions.Normalize(expression));
}
