using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>Locations index an element that is a list in its base definition, even where a profile allows only one.</summary>
public sealed class ListLocationTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/one-name-patient";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-list-location-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-one-name-patient.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Profile}}", "name": "OneNamePatient", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" },
                { "id": "Patient.name", "path": "Patient.name", "max": "1" },
                { "id": "Patient.name.family", "path": "Patient.name.family", "min": 1 } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    [Fact]
    public async Task An_element_a_profile_limits_to_one_is_still_indexed_as_its_base_list()
    {
        var result = await SharedValidator.Value.ValidateAsync("""{ "resourceType": "Patient", "name": [ { "given": [ "Ann" ] } ] }""",
            ResourceFormat.Json, new ValidationOptions { Profiles = [Profile] });

        Assert.Equal("Patient.name[0]", EngineTestSupport.Single(result, "cardinality-min").Location.Expression);
    }
}
