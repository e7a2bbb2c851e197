using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>A Reference whose children a profile constrains (subject.reference required) keeps its own rules: aggregation and targets.</summary>
public sealed class ConstrainedReferenceTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/bundled-subject-observation";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-constrained-reference-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-bundled-subject-observation.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Profile}}", "name": "BundledSubjectObservation", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Observation",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
              "differential": { "element": [ { "id": "Observation", "path": "Observation" },
                { "id": "Observation.subject", "path": "Observation.subject",
                  "type": [ { "code": "Reference", "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/Patient" ], "aggregation": [ "bundled" ] } ] },
                { "id": "Observation.subject.reference", "path": "Observation.subject.reference", "min": 1 } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Task<ValidationResult> ValidateAsync(string subject) => SharedValidator.Value.ValidateAsync($$"""
        { "resourceType": "Bundle", "type": "collection", "entry": [
          { "fullUrl": "http://example.org/fhir/Observation/o1", "resource": { "resourceType": "Observation", "id": "o1",
            "meta": { "profile": [ "{{Profile}}" ] }, "status": "final", "code": { "text": "weight" }, "subject": { "reference": "{{subject}}" } } },
          { "fullUrl": "http://example.org/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1" } },
          { "fullUrl": "http://example.org/fhir/Group/g1", "resource": { "resourceType": "Group", "id": "g1", "type": "person", "actual": true } } ] }
        """, ResourceFormat.Json);

    [Fact]
    public async Task Aggregation_and_targets_apply_when_the_profile_constrains_the_references_children()
    {
        var bundled = await ValidateAsync("Patient/p1");
        var elsewhere = await ValidateAsync("Patient/p2");
        var wrongType = await ValidateAsync("Group/g1");

        EngineTestSupport.AssertNoErrors(bundled);
        Assert.Equal("Bundle.entry[0].resource.subject", EngineTestSupport.Single(elsewhere, "reference-aggregation").Location.Expression);
        Assert.Equal("Bundle.entry[0].resource.subject", EngineTestSupport.Single(wrongType, "reference-target").Location.Expression);
    }
}
