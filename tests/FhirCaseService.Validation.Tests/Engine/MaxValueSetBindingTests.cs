using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// An extensible binding narrowed by the elementdefinition-maxValueSet extension: codes outside the bound ValueSet are
/// allowed only from the maximum one, as the reference validator applies it.
/// </summary>
public sealed class MaxValueSetBindingTests
{
    private const string Base = "http://example.org/fhir/";
    private const string Profile = Base + "StructureDefinition/max-bound-observation";

    private static readonly Lazy<FhirValidator> SharedValidator = new(Create);

    private static FhirValidator Create()
    {
        var directory = ScratchPackageDirectory.Create("fhircase-maxvs-");
        ShadesTerminology.WriteCodeSystem(directory);
        ShadesTerminology.WriteValueSet(directory, "preferred-shades", "red");
        ShadesTerminology.WriteValueSet(directory, "warm-shades", "red", "pink");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-max-bound-observation.json"), """
            {
              "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/max-bound-observation",
              "name": "MaxBoundObservation", "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": false,
              "type": "Observation", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
              "differential": { "element": [
                { "id": "Observation", "path": "Observation" },
                { "id": "Observation.interpretation", "path": "Observation.interpretation",
                  "binding": { "strength": "extensible", "valueSet": "http://example.org/fhir/ValueSet/preferred-shades",
                    "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet",
                                     "valueCanonical": "http://example.org/fhir/ValueSet/warm-shades" } ] } }
              ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    }

    private static Task<ValidationResult> ValidateInterpretationAsync(string concept) =>
        SharedValidator.Value.ValidateAsync($$"""
            {
              "resourceType": "Observation",
              "meta": { "profile": [ "{{Profile}}" ] },
              "status": "final",
              "code": { "text": "shade" },
              "interpretation": [ {{concept}} ]
            }
            """, ResourceFormat.Json);

    private static string Shade(string code) => $$"""{ "coding": [ { "system": "http://example.org/fhir/CodeSystem/shades", "code": "{{code}}" } ] }""";

    [Fact]
    public async Task Code_from_the_bound_value_set_gives_no_binding_finding()
    {
        var result = await ValidateInterpretationAsync(Shade("red"));

        Assert.DoesNotContain(result.Issues, i => i.Rule is "binding-extensible" or "binding-max");
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Code_outside_the_bound_set_but_inside_the_maximum_is_only_the_extensible_warning()
    {
        var result = await ValidateInterpretationAsync(Shade("pink"));

        Assert.Equal(OperationOutcome.IssueSeverity.Warning, EngineTestSupport.Single(result, "binding-extensible").Severity);
        Assert.DoesNotContain(result.Issues, i => i.Rule == "binding-max");
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Code_outside_the_maximum_value_set_is_an_error_on_the_element()
    {
        var result = await ValidateInterpretationAsync(Shade("blue"));

        var issue = EngineTestSupport.Single(result, "binding-max");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal(OperationOutcome.IssueType.CodeInvalid, issue.Code);
        Assert.Equal("Observation.interpretation[0]", issue.Location.Expression);
        Assert.Contains("http://example.org/fhir/ValueSet/warm-shades", issue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CodeableConcept_without_coding_under_a_maximum_value_set_is_an_error()
    {
        var result = await ValidateInterpretationAsync("""{ "text": "a sort of teal" }""");

        var issue = EngineTestSupport.Single(result, "binding-max");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Observation.interpretation[0]", issue.Location.Expression);
        Assert.DoesNotContain(result.Issues, i => i.Rule == "binding-extensible");
    }

    [Fact]
    public async Task Without_the_profile_the_core_extensible_binding_has_no_maximum()
    {
        var result = await ValidateInterpretationAsync(Shade("blue"));

        // The core binding (observation-interpretation, extensible, no maximum set) only warns.
        var withoutProfile = await SharedValidator.Value.ValidateAsync(new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept { Text = "shade" },
            Interpretation = [new CodeableConcept("http://example.org/fhir/CodeSystem/shades", "blue")],
        });

        Assert.True(result.HasErrors);
        Assert.DoesNotContain(withoutProfile.Issues, i => i.Rule == "binding-max");
    }
}
