using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Rule families applied as the HL7 reference validator applies them (issue 13): example-host extensions, where Bundle
/// prose findings are located, references that meet a urn:uuid entry of another type, and mustHaveValue /
/// valueAlternatives in R4 profiles.
/// </summary>
public sealed class ReferenceValidatorFidelityTests
{
    private const string Base = "http://fhircase.test/fhir/StructureDefinition/";
    private const string CrossVersion = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.";

    private static readonly Lazy<FhirValidator> ProfiledValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-fidelity-");
        void Write(string id, string element) => File.WriteAllText(Path.Combine(directory.FullName, $"StructureDefinition-{id}.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Base}}{{id}}", "name": "{{id.Replace("-", "", StringComparison.Ordinal)}}", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
              "differential": { "element": [ { "id": "Patient", "path": "Patient" }, {{element}} ] }
            }
            """);
        Write("active-must-have-value", $$"""{ "id": "Patient.active", "path": "Patient.active", "extension": [ { "url": "{{CrossVersion}}mustHaveValue", "valueBoolean": true } ] }""");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-bundled-subject.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Base}}bundled-subject", "name": "BundledSubject", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Encounter",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Encounter", "derivation": "constraint",
              "differential": { "element": [ { "id": "Encounter", "path": "Encounter" },
                { "id": "Encounter.subject", "path": "Encounter.subject", "type": [ { "code": "Reference", "aggregation": [ "bundled" ] } ] } ] }
            }
            """);
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-any-resource-entries.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{Base}}any-resource-entries", "name": "AnyResourceEntries", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Bundle",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Bundle", "derivation": "constraint",
              "differential": { "element": [ { "id": "Bundle", "path": "Bundle" },
                { "id": "Bundle.entry", "path": "Bundle.entry", "slicing": { "discriminator": [ { "type": "type", "path": "resource" } ], "rules": "open" } },
                { "id": "Bundle.entry:encounter", "path": "Bundle.entry", "sliceName": "encounter" },
                { "id": "Bundle.entry:encounter.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Resource", "profile": [ "{{Base}}bundled-subject" ] } ] } ] }
            }
            """);
        Write("named-first", """{ "id": "Patient.name", "path": "Patient.name", "min": 1 }""");
        Write("named-second", """{ "id": "Patient.name", "path": "Patient.name", "min": 1 }""");
        Write("active-absent-reason", $$"""{ "id": "Patient.active", "path": "Patient.active", "extension": [ { "url": "{{CrossVersion}}valueAlternatives", "valueCanonical": "http://hl7.org/fhir/StructureDefinition/data-absent-reason" } ] }""");
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Task<ValidationResult> ValidateProfiledAsync(string active, string profile) =>
        ProfiledValidator.Value.ValidateAsync($$"""{ "resourceType": "Patient", {{active}} }""", ResourceFormat.Json,
            new ValidationOptions { Profiles = [Base + profile] });

    private static string ActiveWith(string extensionUrl) => $$""" "_active": { "extension": [ { "url": "{{extensionUrl}}", "valueCode": "unknown" } ] } """;

    [Theory]
    [InlineData("http://example.org/fhir/StructureDefinition/something", "extension")]
    [InlineData("http://acme.com/fhir/StructureDefinition/something", "extension")]
    [InlineData("http://example.org/fhir/StructureDefinition/modify", "modifierExtension")]
    public async Task Reference_options_accept_extensions_on_example_hosts_with_a_warning(string url, string element)
    {
        var json = $$"""{ "resourceType": "Patient", "{{element}}": [ { "url": "{{url}}", "valueBoolean": true } ] }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

        EngineTestSupport.AssertNoErrors(result);
        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Warning && i.Location.Expression == $"Patient.{element}[0]");
    }

    [Fact]
    public async Task Example_hosts_are_not_accepted_without_the_reference_options()
    {
        var json = """{ "resourceType": "Patient", "modifierExtension": [ { "url": "http://example.org/fhir/StructureDefinition/modify", "valueBoolean": true } ] }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Equal("Patient.modifierExtension[0]", EngineTestSupport.Single(result, "unknown-modifier-extension").Location.Expression);
    }

    [Theory]
    [InlineData("extension", "unknown-extension")]
    [InlineData("modifierExtension", "unknown-modifier-extension")]
    public async Task An_unknown_extension_in_our_own_namespace_is_an_error_even_though_it_lies_on_an_example_host(string element, string rule)
    {
        var json = $$"""{ "resourceType": "Patient", "{{element}}": [ { "url": "{{ValidationOptions.OwnCanonicalBase}}StructureDefinition/no-such-extension", "valueBoolean": true } ] }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

        var issue = EngineTestSupport.Single(result, rule);
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal($"Patient.{element}[0]", issue.Location.Expression);
    }

    [Fact]
    public async Task Extension_on_another_host_is_still_an_error_under_the_reference_options()
    {
        var json = """{ "resourceType": "Patient", "extension": [ { "url": "https://example.com/StructureDefinition/is-extemp", "valueBoolean": true } ] }""";

        var result = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

        Assert.Equal(OperationOutcome.IssueSeverity.Error, EngineTestSupport.Single(result, "unknown-extension").Severity);
    }

    private const string DocumentWithRelativeFullUrls = """
        {
          "resourceType": "Bundle", "type": "document", "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0" },
          "timestamp": "2024-01-01T00:00:00Z",
          "entry": [
            { "fullUrl": "http://server.test/fhir/Composition/c1",
              "resource": { "resourceType": "Composition", "id": "c1", "status": "final", "type": { "text": "note" }, "date": "2024-01-01", "title": "t",
                            "subject": { "reference": "Patient/p1" }, "author": [ { "reference": "Patient/p1" } ],
                            "section": [ { "title": "s", "entry": [ { "reference": "Observation/missing" } ] } ] } },
            { "fullUrl": "Patient/p1", "resource": { "resourceType": "Patient", "id": "p1" } }
          ]
        }
        """;

    [Fact]
    public async Task Reference_options_locate_fullUrl_findings_on_the_first_entry_and_document_findings_from_one()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(DocumentWithRelativeFullUrls, ValidationOptions.Reference);

        var fullUrl = EngineTestSupport.Single(result, "bdl-fullurl");
        Assert.Equal("Bundle.entry[0]", fullUrl.Location.Expression);
        Assert.Equal(1, fullUrl.Location.Entry);
        var unresolved = Assert.Single(result.Issues, i => i.Rule == "bdl-reference" && i.Message.Contains("Observation/missing", StringComparison.Ordinal));
        Assert.Equal("Bundle.entry[1].resource.section[1].entry[1]", unresolved.Location.Expression);
        Assert.Equal(0, unresolved.Location.Entry);
    }

    [Fact]
    public async Task Default_options_locate_bundle_prose_findings_on_the_element_concerned()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(DocumentWithRelativeFullUrls);

        Assert.Equal("Bundle.entry[1]", EngineTestSupport.Single(result, "bdl-fullurl").Location.Expression);
        Assert.Contains(result.Issues, i => i.Rule == "bdl-reference" && i.Location.Expression == "Bundle.entry[0].resource.section[0].entry[0]");
    }

    [Fact]
    public async Task Relative_reference_meeting_a_urn_uuid_entry_of_another_type_is_an_error()
    {
        const string json = """
            {
              "resourceType": "Bundle", "type": "collection",
              "entry": [
                { "fullUrl": "urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642",
                  "resource": { "resourceType": "Patient", "generalPractitioner": [ { "reference": "Practitioner/5d9588d8-3cd6-4b32-8fb7-ad13694e069d" } ] } },
                { "fullUrl": "urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d", "resource": { "resourceType": "Organization", "name": "foo" } }
              ]
            }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Equal("Bundle.entry[0].resource.generalPractitioner[0]", EngineTestSupport.Single(result, "reference-type-mismatch").Location.Expression);
    }

    [Fact]
    public async Task Relative_reference_to_an_entry_with_its_own_id_is_not_matched_by_id_alone()
    {
        const string json = """
            {
              "resourceType": "Bundle", "type": "collection",
              "entry": [
                { "fullUrl": "urn:uuid:54fc3e09-e279-4b74-a8ff-2649ec968642",
                  "resource": { "resourceType": "Encounter", "id": "shared", "status": "finished", "class": { "code": "AMB" }, "subject": { "reference": "Patient/shared" } } },
                { "fullUrl": "urn:uuid:5d9588d8-3cd6-4b32-8fb7-ad13694e069d", "resource": { "resourceType": "Organization", "id": "other" } }
              ]
            }
            """;

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.DoesNotContain(result.Issues, i => i.Rule == "reference-type-mismatch");
    }

    [Fact]
    public async Task Must_have_value_rejects_a_primitive_with_only_extensions()
    {
        var bad = await ValidateProfiledAsync(ActiveWith("http://hl7.org/fhir/StructureDefinition/data-absent-reason"), "active-must-have-value");
        var good = await ValidateProfiledAsync("\"active\": true", "active-must-have-value");

        Assert.Equal("Patient.active", EngineTestSupport.Single(bad, "value-required").Location.Expression);
        EngineTestSupport.AssertNoErrors(good);
    }

    [Fact]
    public async Task Value_alternatives_accept_only_the_listed_extensions_in_place_of_a_value()
    {
        var listed = await ValidateProfiledAsync(ActiveWith("http://hl7.org/fhir/StructureDefinition/data-absent-reason"), "active-absent-reason");
        var other = await ValidateProfiledAsync(ActiveWith("http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor"), "active-absent-reason");

        EngineTestSupport.AssertNoErrors(listed);
        Assert.Equal("Patient.active", EngineTestSupport.Single(other, "value-alternatives").Location.Expression);
    }

    private static string EncounterCollection(string patientEntry) => $$"""
        {
          "resourceType": "Bundle", "type": "collection",
          "entry": [
            { "fullUrl": "http://server.test/fhir/Encounter/e1",
              "resource": { "resourceType": "Encounter", "id": "e1", "status": "planned", "class": { "code": "AMB" }, "subject": { "reference": "Patient/p1" } } }
            {{patientEntry}}
          ]
        }
        """;

    [Fact]
    public async Task Bundled_aggregation_requires_the_reference_to_resolve_inside_the_bundle()
    {
        var options = new ValidationOptions { Profiles = [Base + "any-resource-entries"] };
        var outside = await ProfiledValidator.Value.ValidateAsync(EncounterCollection(""), ResourceFormat.Json, options);
        var inside = await ProfiledValidator.Value.ValidateAsync(EncounterCollection(""", { "fullUrl": "http://server.test/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1" } }"""), ResourceFormat.Json, options);

        Assert.Equal("Bundle.entry[0].resource.subject", EngineTestSupport.Single(outside, "reference-aggregation").Location.Expression);
        EngineTestSupport.AssertNoErrors(inside);
    }

    [Fact]
    public async Task Cardinality_broken_against_two_profiles_is_reported_for_each()
    {
        var result = await ProfiledValidator.Value.ValidateAsync("""{ "resourceType": "Patient", "active": true }""",
            ResourceFormat.Json, new ValidationOptions { Profiles = [Base + "named-first", Base + "named-second"] });

        var missing = result.Issues.Where(i => i.Rule == "cardinality-min").ToList();
        Assert.Equal(2, missing.Count);
        Assert.All(missing, i => Assert.Equal("Patient", i.Location.Expression));
    }
}
