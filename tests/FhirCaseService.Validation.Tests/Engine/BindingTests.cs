using FhirCaseService.Conformance;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class BindingTests
{
    [Fact]
    public async Task Code_outside_a_required_value_set_is_an_error()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/mrd-method-not-in-valueset.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "binding-required");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.CodeInvalid, issue.Code);
        Assert.Equal("Observation.method", issue.Location.Expression);
    }

    [Fact]
    public async Task Code_outside_an_extensible_value_set_is_a_warning()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/hsct-donor-type-outside-valueset.json");

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        var issue = EngineTestSupport.Single(result, "binding-extensible");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal("Procedure.extension[0].value.ofType(CodeableConcept)", issue.Location.Expression);
        Assert.False(result.HasErrors);
    }

    private const string DataAbsent = """{ "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown" }] }""";

    [Theory]
    [InlineData("""{ "text": "active" }""")]
    [InlineData(DataAbsent)]
    public async Task CodeableConcept_without_coding_under_a_required_binding_is_an_error(string concept)
    {
        var json = $$"""{ "resourceType": "Condition", "clinicalStatus": {{concept}}, "subject": { "reference": "Patient/p" } }""";

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "binding-required");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.CodeInvalid, issue.Code);
        Assert.Equal("Condition.clinicalStatus", issue.Location.Expression);
        Assert.StartsWith("No code provided", issue.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "text": "high" }""")]
    [InlineData(DataAbsent)]
    public async Task CodeableConcept_without_coding_under_an_extensible_binding_is_a_warning(string concept)
    {
        var json = $$"""{ "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "interpretation": [{{concept}}] }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        var issue = EngineTestSupport.Single(result, "binding-extensible");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal("Observation.interpretation[0]", issue.Location.Expression);
        Assert.DoesNotContain(result.Issues, i => i.Rule == "binding-required");
    }

    [Theory]
    [InlineData("""{ "text": "mild" }""")]
    [InlineData(DataAbsent)]
    public async Task CodeableConcept_without_coding_under_a_preferred_binding_is_not_reported(string concept)
    {
        var json = $$"""{ "resourceType": "Condition", "severity": {{concept}}, "subject": { "reference": "Patient/p" } }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.DoesNotContain(result.Issues, i => i.Rule is "binding-required" or "binding-extensible");
    }

    [Fact]
    public async Task Code_outside_a_core_required_value_set_in_json_is_reported_once_per_rule()
    {
        const string json = """
            {
              "resourceType": "Observation",
              "status": "done",
              "code": { "text": "x" }
            }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        var errors = result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Error).ToList();
        Assert.Equal(["binding-required", "binding-system"], errors.Select(i => i.Rule).Order());
        Assert.All(errors, i => Assert.Equal("Observation.status", i.Location.Expression));
        Assert.All(errors, i => Assert.Equal(3, i.Location.Line));
    }

    [Fact]
    public async Task Coding_outside_a_required_value_set_names_its_system_so_only_membership_is_reported()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/mrd-method-not-in-valueset.json");

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Single(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Rule == "binding-required");
        Assert.DoesNotContain(result.Issues, i => i.Rule == "binding-system");
    }

    [Fact]
    public async Task Example_binding_is_not_checked()
    {
        var observation = new Observation { Status = ObservationStatus.Final, Code = new CodeableConcept("http://example.org/not-loinc", "anything") };

        var result = await EngineTestSupport.ValidateAsync(observation);

        Assert.DoesNotContain(result.Issues, i => i.Rule.StartsWith("binding", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Code_of_a_large_external_system_not_enumerated_is_reported_as_not_checked()
    {
        var context = ConformanceContext.CreateDefault();
        var validator = new FhirValidator(context.Snapshots, new UndecidableTerminology());
        var json = EngineTestSupport.ExampleFile("examples/invalid/mrd-method-not-in-valueset.json");

        var result = await validator.ValidateAsync(json, ResourceFormat.Json);

        var issue = Assert.Single(result.Issues, i => i.Rule == "binding-required" && i.Location.Expression == "Observation.method");
        Assert.Equal(OperationOutcome.IssueSeverity.Information, issue.Severity);
        Assert.Contains("too large", issue.Message);
    }

    private sealed class UndecidableTerminology : ITerminologyChecker
    {
        public ValueTask<TerminologyVerdict> CheckAsync(string valueSetUrl, string? system, string code, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new TerminologyVerdict(CodeMembership.NotChecked, "the code system is too large to hold locally"));
    }
}
