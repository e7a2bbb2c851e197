using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// A profile that an element's type names (ElementDefinition.type.profile) must be known, as the reference validator
/// requires (VALIDATION_VAL_UNKNOWN_PROFILE): unknown, it is an error on each element, and a profile required of a resource stays
/// required when the resource also declares it in meta.profile (which alone would be a warning).
/// </summary>
public sealed class UnknownTypeProfileTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/unknown-parts-patient";
    private const string UnknownAddress = "http://example.org/fhir/StructureDefinition/nowhere-address";
    private const string UnknownPatient = "http://example.org/fhir/StructureDefinition/nowhere-patient";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-unknown-type-profile-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-unknown-parts-patient.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Profile}}", "name": "UnknownPartsPatient", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" },
                { "id": "Patient.address", "path": "Patient.address", "type": [ { "code": "Address", "profile": [ "{{UnknownAddress}}" ] } ] } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    [Fact]
    public async Task An_unknown_profile_of_a_datatype_is_an_error_on_each_element()
    {
        var result = await SharedValidator.Value.ValidateAsync(
            """{ "resourceType": "Patient", "address": [ { "city": "Leeds" }, { "city": "York" } ] }""",
            ResourceFormat.Json, new ValidationOptions { Profiles = [Profile] });

        var errors = result.Issues.Where(i => i.Rule == "profile-unknown" && i.Severity == OperationOutcome.IssueSeverity.Error).Select(i => i.Location.Expression);
        Assert.Equal(["Patient.address[0]", "Patient.address[1]"], errors);
    }

    [Fact]
    public async Task A_required_unknown_profile_is_an_error_even_when_the_resource_declares_it()
    {
        var result = await SharedValidator.Value.ValidateAsync($$"""
            { "resourceType": "Patient", "meta": { "profile": [ "{{UnknownPatient}}" ] } }
            """, ResourceFormat.Json, new ValidationOptions { Profiles = [UnknownPatient] });

        var issue = EngineTestSupport.Single(result, "profile-unknown");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Patient", issue.Location.Expression);
    }
}
