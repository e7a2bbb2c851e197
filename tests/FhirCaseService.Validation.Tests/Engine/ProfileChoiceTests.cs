using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Several profiles on one type are alternatives, and slicing by profile on "$this.resource" picks the entry by its
/// resource: on a Parameters profile and a Bundle profile written for these tests.
/// </summary>
public sealed class ProfileChoiceTests
{
    private const string Base = "http://example.org/fhir/StructureDefinition/";

    private static readonly Lazy<FhirValidator> SharedValidator = new(CreateValidator);

    private static FhirValidator CreateValidator()
    {
        var directory = ScratchPackageDirectory.Create("fhircase-profile-choice-");
        void Write(string name, string json) => File.WriteAllText(Path.Combine(directory.FullName, $"StructureDefinition-{name}.json"), json);
        Write("named-patient", Profile("named-patient", "Patient", """{ "id": "Patient.name", "path": "Patient.name", "min": 1 }"""));
        Write("born-patient", Profile("born-patient", "Patient", """{ "id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1 }"""));
        Write("final-observation", Profile("final-observation", "Observation", """{ "id": "Observation.status", "path": "Observation.status", "fixedCode": "final" }"""));
        Write("either-parameters", Profile("either-parameters", "Parameters", $$"""
            { "id": "Parameters.parameter.resource", "path": "Parameters.parameter.resource",
              "type": [ { "code": "Resource", "profile": [ "{{Base}}named-patient", "{{Base}}born-patient" ] } ] }
            """));
        Write("sliced-bundle", Profile("sliced-bundle", "Bundle", $$"""
            { "id": "Bundle.entry", "path": "Bundle.entry", "slicing": { "discriminator": [ { "type": "profile", "path": "$this.resource" } ], "rules": "closed" } },
            { "id": "Bundle.entry:patient", "path": "Bundle.entry", "sliceName": "patient", "min": 1, "max": "1" },
            { "id": "Bundle.entry:patient.resource", "path": "Bundle.entry.resource", "min": 1, "type": [ { "code": "Resource", "profile": [ "{{Base}}named-patient" ] } ] },
            { "id": "Bundle.entry:observation", "path": "Bundle.entry", "sliceName": "observation", "min": 1, "max": "1" },
            { "id": "Bundle.entry:observation.resource", "path": "Bundle.entry.resource", "min": 1, "type": [ { "code": "Resource", "profile": [ "{{Base}}final-observation" ] } ] }
            """));
        Write("typed-payload", Profile("typed-payload", "Communication", """
            { "id": "Communication.payload", "path": "Communication.payload", "slicing": { "discriminator": [ { "type": "type", "path": "content" }, { "type": "type", "path": "content.ofType(Reference).resolve()" } ], "rules": "open" } },
            { "id": "Communication.payload:document", "path": "Communication.payload", "sliceName": "document" },
            { "id": "Communication.payload:document.content[x]", "path": "Communication.payload.content[x]", "type": [ { "code": "Reference", "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/DocumentReference" ] } ] },
            { "id": "Communication.payload:task", "path": "Communication.payload", "sliceName": "task" },
            { "id": "Communication.payload:task.content[x]", "path": "Communication.payload.content[x]", "type": [ { "code": "Reference", "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/Task" ] } ] }
            """));
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    }

    private static string Profile(string id, string type, string elements) => $$"""
        {
          "resourceType": "StructureDefinition", "url": "{{Base}}{{id}}", "name": "{{id.Replace("-", "", StringComparison.Ordinal)}}", "status": "draft",
          "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "{{type}}",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/{{type}}", "derivation": "constraint",
          "differential": { "element": [ { "id": "{{type}}", "path": "{{type}}" }, {{elements}} ] }
        }
        """;

    private static Task<ValidationResult> ValidateAsync(string json, string profile) =>
        SharedValidator.Value.ValidateAsync(json, ResourceFormat.Json, new ValidationOptions { Profiles = [Base + profile] });

    private static string Parameters(string patient) => $$"""{ "resourceType": "Parameters", "parameter": [ { "name": "p", "resource": {{patient}} } ] }""";

    [Fact]
    public async Task Resource_meeting_one_of_several_profiles_is_valid()
    {
        var result = await ValidateAsync(Parameters("""{ "resourceType": "Patient", "birthDate": "2000-01-01" }"""), "either-parameters");

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Resource_meeting_none_of_several_profiles_is_an_error_with_each_profiles_findings()
    {
        var result = await ValidateAsync(Parameters("""{ "resourceType": "Patient", "gender": "other" }"""), "either-parameters");

        Assert.Equal("Parameters.parameter[0].resource", EngineTestSupport.Single(result, "profile-choice").Location.Expression);
        Assert.Equal(2, result.Issues.Count(i => i.Rule == "cardinality-min"));
    }

    [Fact]
    public async Task Slicing_by_profile_of_this_resource_assigns_each_entry_by_its_resource()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c01", "resource": { "resourceType": "Observation", "status": "final", "code": { "text": "x" } } },
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c02", "resource": { "resourceType": "Patient", "name": [ { "family": "Doe" } ] } } ] }
            """;

        EngineTestSupport.AssertNoErrors(await ValidateAsync(bundle, "sliced-bundle"));
    }

    [Fact]
    public async Task Type_slice_through_ofType_and_resolve_picks_the_slice_of_the_referenced_type()
    {
        var bundle = """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "urn:uuid:2d6e1c7a-8b3f-4e21-9c55-6a0f3b9d4e01", "resource": { "resourceType": "Communication", "status": "completed",
                "meta": { "profile": [ "http://example.org/fhir/StructureDefinition/typed-payload" ] },
                "payload": [ { "contentReference": { "reference": "urn:uuid:2d6e1c7a-8b3f-4e21-9c55-6a0f3b9d4e02" } } ] } },
              { "fullUrl": "urn:uuid:2d6e1c7a-8b3f-4e21-9c55-6a0f3b9d4e02", "resource": { "resourceType": "Task", "status": "requested", "intent": "order" } } ] }
            """;

        var result = await SharedValidator.Value.ValidateAsync(bundle, ResourceFormat.Json);

        Assert.DoesNotContain(result.Issues, i => i.Rule == "reference-target");
    }

    /// <summary>A validator of its own whose walks of a node against a structure's root are counted by node and canonical.</summary>
    private static (FhirValidator Validator, System.Collections.Concurrent.ConcurrentDictionary<(Hl7.Fhir.Model.Base Node, string Canonical), int> Walks) CountingValidator()
    {
        var validator = CreateValidator();
        var walks = new System.Collections.Concurrent.ConcurrentDictionary<(Hl7.Fhir.Model.Base Node, string Canonical), int>();
        validator.Walker.RootWalkObserver = (node, schema) => walks.AddOrUpdate((node.Poco, schema.Canonical), 1, (_, n) => n + 1);
        return (validator, walks);
    }

    private static int WalksOf(System.Collections.Concurrent.ConcurrentDictionary<(Hl7.Fhir.Model.Base Node, string Canonical), int> walks, string resourceType, string profile) =>
        Assert.Single(walks, w => w.Key.Node.TypeName == resourceType && w.Key.Canonical == Base + profile).Value;

    [Fact]
    public async Task Entry_sliced_by_profile_is_walked_against_that_profile_once()
    {
        var (validator, walks) = CountingValidator();
        var bundle = """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c01", "resource": { "resourceType": "Observation", "status": "final", "code": { "text": "x" } } },
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c02", "resource": { "resourceType": "Patient", "name": [ { "family": "Doe" } ] } } ] }
            """;

        var result = await validator.ValidateAsync(bundle, ResourceFormat.Json, new ValidationOptions { Profiles = [Base + "sliced-bundle"] });

        EngineTestSupport.AssertNoErrors(result);
        Assert.Equal(1, WalksOf(walks, "Patient", "named-patient"));
        Assert.Equal(1, WalksOf(walks, "Observation", "final-observation"));
    }

    [Fact]
    public async Task Reused_slice_trial_reports_its_findings_with_their_positions_once()
    {
        var (validator, walks) = CountingValidator();
        var bundle = """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c01", "resource": { "resourceType": "Observation", "status": "final", "code": { "text": "x" } } },
              { "fullUrl": "urn:uuid:1c0d3b6e-3a8f-4c57-9d62-0f4b8a2e5c02", "resource": { "resourceType": "Patient",
                "extension": [ { "url": "http://example.org/fhir/StructureDefinition/not-defined-anywhere", "valueString": "x" } ],
                "name": [ { "family": "Doe" } ] } } ] }
            """;

        var result = await validator.ValidateAsync(bundle, ResourceFormat.Json, new ValidationOptions { Profiles = [Base + "sliced-bundle"] });

        EngineTestSupport.AssertNoErrors(result);
        Assert.Equal(1, WalksOf(walks, "Patient", "named-patient"));
        var unknown = EngineTestSupport.Single(result, "unknown-extension");
        Assert.Equal("Bundle.entry[1].resource.extension[0]", unknown.Location.Expression);
        Assert.Equal((4, 20), (unknown.Location.Line, unknown.Location.Column));
        Assert.Equal(1, unknown.Location.Entry);
    }

    [Fact]
    public async Task Profile_choice_walks_the_chosen_profile_once()
    {
        var (validator, walks) = CountingValidator();

        var result = await validator.ValidateAsync(Parameters("""{ "resourceType": "Patient", "birthDate": "2000-01-01" }"""), ResourceFormat.Json,
            new ValidationOptions { Profiles = [Base + "either-parameters"] });

        EngineTestSupport.AssertNoErrors(result);
        Assert.Equal(1, WalksOf(walks, "Patient", "named-patient"));
        Assert.Equal(1, WalksOf(walks, "Patient", "born-patient"));
    }
}
