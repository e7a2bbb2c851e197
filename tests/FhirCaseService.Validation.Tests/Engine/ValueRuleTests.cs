using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>Value rules outside the six compiled ElementDefinition fields: the minLength extension and Attachment.size.</summary>
public sealed class ValueRuleTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/long-id-patient";
    private const string LanguageProfile = "http://example.org/fhir/StructureDefinition/language-patient";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-value-rules-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-long-id-patient.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Profile}}", "name": "LongIdPatient", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" },
                { "id": "Patient.id", "path": "Patient.id",
                  "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/minLength", "valueInteger": 5 } ] } ] }
            }
            """);
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-language-patient.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{LanguageProfile}}", "name": "LanguagePatient", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" },
                { "id": "Patient.text", "path": "Patient.text",
                  "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/narrative-language-control", "valueCode": "_resource" } ] } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    [Fact]
    public async Task MinLength_extension_rejects_a_shorter_value()
    {
        var options = new ValidationOptions { Profiles = [Profile] };

        var shortId = await SharedValidator.Value.ValidateAsync("""{ "resourceType": "Patient", "id": "p1" }""", ResourceFormat.Json, options);
        var longId = await SharedValidator.Value.ValidateAsync("""{ "resourceType": "Patient", "id": "patient-1" }""", ResourceFormat.Json, options);

        Assert.Equal("Patient.id", EngineTestSupport.Single(shortId, "minLength").Location.Expression);
        EngineTestSupport.AssertNoErrors(longId);
    }

    [Fact]
    public async Task Attachment_size_must_match_its_data()
    {
        // "aGVsbG8=" is "hello": 5 bytes.
        static string Media(int size) => $$"""
            { "resourceType": "Media", "status": "completed", "content": { "contentType": "text/plain", "data": "aGVsbG8=", "size": {{size}} } }
            """;

        var wrong = await EngineTestSupport.ValidateJsonAsync(Media(100));
        var right = await EngineTestSupport.ValidateJsonAsync(Media(5));

        Assert.Equal("Media.content", EngineTestSupport.Single(wrong, "attachment-size").Location.Expression);
        EngineTestSupport.AssertNoErrors(right);
    }

    [Fact]
    public async Task Narrative_language_control_requires_a_section_in_the_resource_language()
    {
        static string Patient(string sectionLanguage) => $$"""
            { "resourceType": "Patient", "language": "en", "text": { "status": "generated",
              "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><div lang=\"{{sectionLanguage}}\" xml:lang=\"{{sectionLanguage}}\"><p>x</p></div></div>" } }
            """;
        var options = new ValidationOptions { Profiles = [LanguageProfile] };

        var german = await SharedValidator.Value.ValidateAsync(Patient("de"), ResourceFormat.Json, options);
        var english = await SharedValidator.Value.ValidateAsync(Patient("en"), ResourceFormat.Json, options);

        Assert.Equal("Patient.text", EngineTestSupport.Single(german, "narrative-language").Location.Expression);
        Assert.DoesNotContain(english.Issues, i => i.Rule == "narrative-language");
    }
}
