using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class BundleTests
{
    private const string PatientUrn = "urn:uuid:6f1c7c38-2b0e-4b4a-9c55-1c1b7a3d5e01";
    private const string DiagnosisUrn = "urn:uuid:6f1c7c38-2b0e-4b4a-9c55-1c1b7a3d5e02";

    /// <summary>A transaction Bundle: patient, diagnosis and one more entry (JSON, one element per line).</summary>
    private static string Transaction(string thirdResource) => $$"""
        {
          "resourceType": "Bundle",
          "type": "transaction",
          "entry": [
            {
              "fullUrl": "{{PatientUrn}}",
              "resource": { "resourceType": "Patient", "gender": "female" },
              "request": { "method": "POST", "url": "Patient" }
            },
            {
              "fullUrl": "{{DiagnosisUrn}}",
              "resource": {
                "resourceType": "Condition",
                "code": { "text": "BCP-ALL" },
                "subject": { "reference": "{{PatientUrn}}" }
              },
              "request": { "method": "POST", "url": "Condition" }
            },
            {
              "fullUrl": "urn:uuid:6f1c7c38-2b0e-4b4a-9c55-1c1b7a3d5e03",
              "resource": {{thirdResource}},
              "request": { "method": "POST", "url": "Observation" }
            }
          ]
        }
        """;

    [Fact]
    public async Task References_between_entries_resolve()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction($$"""
            {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "{{PatientUrn}}" },
                "focus": [ { "reference": "{{DiagnosisUrn}}" } ]
              }
            """));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Reference_to_a_missing_entry_is_an_error_on_that_entry()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction("""
            {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "urn:uuid:00000000-0000-0000-0000-000000000000" }
              }
            """));

        var issue = EngineTestSupport.Single(result, "reference-unresolved");
        Assert.Equal("Bundle.entry[2].resource.subject", issue.Location.Expression);
        Assert.Equal(25, issue.Location.Line);
    }

    [Fact]
    public async Task Resolved_target_of_a_type_the_element_does_not_allow_is_an_error()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction($$"""
            {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "{{DiagnosisUrn}}" }
              }
            """));

        var issue = EngineTestSupport.Single(result, "reference-target");
        Assert.Equal("Bundle.entry[2].resource.subject", issue.Location.Expression);
        Assert.Contains("Condition", issue.Message);
    }

    [Fact]
    public async Task Every_entry_is_validated_against_its_own_meta_profile()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction($$"""
            {
                "resourceType": "Observation",
                "meta": { "profile": [ "{{EngineTestSupport.Profiles}}fhircase-mrd" ] },
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "{{PatientUrn}}" }
              }
            """));

        var issue = EngineTestSupport.Single(result, "slice-cardinality");
        Assert.Equal("Bundle.entry[2].resource.category", issue.Location.Expression);
        Assert.Equal(21, issue.Location.Line);
    }

    [Fact]
    public async Task Bundle_rules_are_checked()
    {
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Collection,
            Entry =
            [
                new Bundle.EntryComponent { FullUrl = PatientUrn, Resource = new Patient() },
                new Bundle.EntryComponent { FullUrl = PatientUrn, Resource = new Patient() },
            ],
        };

        var result = await EngineTestSupport.ValidateAsync(bundle);

        Assert.Equal("Bundle", EngineTestSupport.Single(result, "bdl-7").Location.Expression);
    }

    [Fact]
    public async Task Reference_type_named_in_the_reference_is_checked_without_resolving()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/ino-reason-references-observation.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "reference-target");

        Assert.Equal("MedicationAdministration.reasonReference[0]", issue.Location.Expression);
    }

    [Fact]
    public async Task Reference_to_a_missing_contained_resource_is_an_error()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Subject = new ResourceReference("#nobody"),
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "reference-unresolved");

        Assert.Equal("Observation.subject", issue.Location.Expression);
    }

    [Fact]
    public async Task Contained_reference_inside_an_entry_resolves_against_the_entry_not_the_bundle()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction("""
            {
                "resourceType": "Observation",
                "contained": [ { "resourceType": "Patient", "id": "p" } ],
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "#p" }
              }
            """));

        Assert.DoesNotContain(result.Issues, i => i.Rule is "ref-1" or "dom-3" or "reference-unresolved");
        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Parser_cardinality_findings_are_not_duplicated()
    {
        const string json = """
            {
              "resourceType": "MedicationRequest",
              "status": "active",
              "subject": { "reference": "Patient/1" }
            }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Equal(["MedicationRequest.intent", "MedicationRequest.medication"],
            result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Error).Select(i => i.Location.Expression).Order());
    }
}
