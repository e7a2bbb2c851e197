using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// R5's additional bindings written into R4 profiles (the cross-version extension and the HL7 tools extension): a
/// required or maximum one is a rule, an extensible one a warning, one limited by a usage context the resource does not meet is not applied (AdditionalBindingUsageTests).
/// </summary>
public sealed class AdditionalBindingTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/additionally-bound-observation";

    private static readonly Lazy<FhirValidator> SharedValidator = new(Create);

    private static FhirValidator Create()
    {
        var directory = ScratchPackageDirectory.Create("fhircase-additional-binding-");
        ShadesTerminology.WriteCodeSystem(directory);
        ShadesTerminology.WriteValueSet(directory, "warm", "red", "pink");
        ShadesTerminology.WriteValueSet(directory, "red", "red");
        var usage = """, { "url": "usage", "valueUsageContext": { "code": { "system": "http://terminology.hl7.org/CodeSystem/usage-context-type", "code": "focus" }, "valueCodeableConcept": { "text": "x" } } }""";
        AdditionallyBoundObservation.Write(directory, Profile, "AdditionallyBoundObservation",
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.CrossVersion, "required", "http://example.org/fhir/ValueSet/warm"),
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.Tools, "extensible", "http://example.org/fhir/ValueSet/red"),
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.CrossVersion, "required", "http://example.org/fhir/ValueSet/red", usage),
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.Tools, "candidate", "http://example.org/fhir/ValueSet/red"));
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    }

    private static Task<ValidationResult> ValidateCodeAsync(string code) =>
        SharedValidator.Value.ValidateAsync($$"""
            {
              "resourceType": "Observation",
              "meta": { "profile": [ "{{Profile}}" ] },
              "status": "final",
              "code": { "coding": [ { "system": "http://example.org/fhir/CodeSystem/shades", "code": "{{code}}" } ] }
            }
            """, ResourceFormat.Json);

    [Fact]
    public async Task Code_in_every_additional_value_set_gives_no_binding_finding()
    {
        var result = await ValidateCodeAsync("red");

        Assert.DoesNotContain(result.Issues, i => i.Rule is "binding-required" or "binding-extensible");
    }

    [Fact]
    public async Task Code_outside_an_extensible_additional_binding_is_a_warning_naming_it()
    {
        var result = await ValidateCodeAsync("pink");

        var issue = EngineTestSupport.Single(result, "binding-extensible");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Contains("http://example.org/fhir/ValueSet/red (an additional binding)", issue.Message, StringComparison.Ordinal);
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Code_outside_a_required_additional_binding_is_an_error_on_the_element()
    {
        var result = await ValidateCodeAsync("blue");

        var issue = EngineTestSupport.Single(result, "binding-required");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Observation.code", issue.Location.Expression);
        Assert.Contains("http://example.org/fhir/ValueSet/warm (an additional binding)", issue.Message, StringComparison.Ordinal);
    }
}
