using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Rule families the R4 specification's own examples showed we reported where the HL7 reference validator does not
/// (docs/validation.md, "R4 specification examples as a false-positive probe"). Each test uses a small instance written
/// for the rule, plus its failing counterpart, so that the rule is narrowed, not switched off.
/// </summary>
public sealed class SpecExampleFamilyTests
{
    private static Task<ValidationResult> ValidateAsync(string json) => EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

    private static IEnumerable<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    private const string ContainedMedications = """
        {
          "resourceType": "MedicationRequest",
          "contained": [
            { "resourceType": "Substance", "id": "sub", "code": { "text": "active substance" } },
            { "resourceType": "Medication", "id": "med", "ingredient": [ { "itemReference": { "reference": "#REF" } } ] }
          ],
          "status": "active",
          "intent": "order",
          "medicationReference": { "reference": "#med" },
          "subject": { "reference": "Patient/p1" }
        }
        """;

    [Fact]
    public async Task Contained_resource_may_reference_a_sibling_in_the_same_container()
    {
        var result = await ValidateAsync(ContainedMedications.Replace("#REF", "#sub", StringComparison.Ordinal));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Contained_resource_referencing_an_id_no_sibling_has_is_unresolved()
    {
        var result = await ValidateAsync(ContainedMedications.Replace("#REF", "#nothing", StringComparison.Ordinal));

        var issue = EngineTestSupport.Single(result, "reference-unresolved");
        Assert.Equal("MedicationRequest.contained[1].ingredient[0].item.ofType(Reference)", issue.Location.Expression);
    }

    [Fact]
    public async Task Contained_reference_does_not_reach_past_a_bundle_entry()
    {
        var json = """
            {
              "resourceType": "Bundle",
              "type": "collection",
              "entry": [ {
                "fullUrl": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a10",
                "resource": {
                  "resourceType": "Medication",
                  "contained": [ { "resourceType": "Substance", "id": "sub", "code": { "text": "s" } } ],
                  "ingredient": [ { "itemReference": { "reference": "#sub" } } ]
                }
              }, {
                "fullUrl": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a11",
                "resource": { "resourceType": "Medication", "ingredient": [ { "itemReference": { "reference": "#sub" } } ] }
              } ]
            }
            """;

        var result = await ValidateAsync(json);

        var issue = EngineTestSupport.Single(result, "reference-unresolved");
        Assert.Equal("Bundle.entry[1].resource.ingredient[0].item.ofType(Reference)", issue.Location.Expression);
    }
}
