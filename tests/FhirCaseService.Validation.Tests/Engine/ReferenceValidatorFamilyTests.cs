using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Rule families where our engine differed from the HL7 reference validator (docs/validation.md, "validator fidelity:
/// the rule families left", session 7). Each family: small instances written for the rule, accepting and failing.
/// </summary>
public sealed class ReferenceValidatorFamilyTests
{
    private static Task<ValidationResult> ValidateAsync(string json) => EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

    private static IEnumerable<ValidationIssue> Errors(ValidationResult result) =>
        result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    // ---- Family 1: message Bundles are interlinked as documents are ----

    private const string HeaderUrl = "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a01";
    private const string PatientUrl = "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a02";
    private const string AllergyUrl = "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a03";

    /// <summary>A message whose header focuses on an AllergyIntolerance; <paramref name="extraEntries"/> are appended.</summary>
    private static string Message(string allergyExtension = "", string extraEntries = "") => $$"""
        {
          "resourceType": "Bundle",
          "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a00" },
          "type": "message",
          "timestamp": "2024-01-01T00:00:00Z",
          "entry": [ {
            "fullUrl": "{{HeaderUrl}}",
            "resource": {
              "resourceType": "MessageHeader",
              "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p id=\"allergy-1\">peanut</p><p id=\"twice\">a</p><p id=\"twice\">b</p></div>" },
              "eventUri": "http://example.org/fhir/message-events/allergy-notification",
              "source": { "endpoint": "http://example.org/fhir/endpoint" },
              "focus": [ { "reference": "{{AllergyUrl}}" } ]
            }
          }, {
            "fullUrl": "{{PatientUrl}}",
            "resource": { "resourceType": "Patient", "active": true }
          }, {
            "fullUrl": "{{AllergyUrl}}",
            "resource": {
              "resourceType": "AllergyIntolerance"{{allergyExtension}},
              "clinicalStatus": { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active" } ] },
              "patient": { "reference": "{{PatientUrl}}" }
            }
          }{{extraEntries}} ]
        }
        """;

    private static string NarrativeLink(string fragment) =>
        $$""", "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/narrativeLink", "valueUrl": "{{HeaderUrl}}#{{fragment}}" } ]""";

    [Fact]
    public async Task Message_whose_entries_all_link_from_the_header_has_no_finding()
    {
        var result = await ValidateAsync(Message(NarrativeLink("allergy-1")));

        EngineTestSupport.AssertNoErrors(result);
        Assert.DoesNotContain(result.Issues, i => i.Rule.StartsWith("bdl-", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("nothing-here")]
    [InlineData("twice")]
    public async Task Message_narrative_link_naming_no_id_or_two_ids_is_an_error_at_the_bundle(string fragment)
    {
        var result = await ValidateAsync(Message(NarrativeLink(fragment)));

        var issue = EngineTestSupport.Single(result, "bdl-fragment");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Bundle", issue.Location.Expression);
    }

    [Fact]
    public async Task Message_link_naming_no_id_outside_a_narrative_link_is_accepted_but_two_ids_are_not()
    {
        static string Link(string fragment) =>
            $$""", "extension": [ { "url": "http://example.org/fhir/StructureDefinition/source-text", "valueUri": "{{HeaderUrl}}#{{fragment}}" } ]""";

        Assert.DoesNotContain((await ValidateAsync(Message(Link("nothing-here")))).Issues, i => i.Rule == "bdl-fragment");
        Assert.Equal("Bundle", EngineTestSupport.Single(await ValidateAsync(Message(Link("twice"))), "bdl-fragment").Location.Expression);
    }

    [Fact]
    public async Task Message_entry_no_link_reaches_is_a_warning_not_an_error()
    {
        var orphan = $$""", { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a04", "resource": { "resourceType": "Basic", "code": { "text": "note" } } }""";

        var result = await ValidateAsync(Message(extraEntries: orphan));

        EngineTestSupport.AssertNoErrors(result);
        var issue = EngineTestSupport.Single(result, "bdl-message-orphan");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        // Entries counted from 1, as the reference validator numbers them.
        Assert.Equal("Bundle.entry[4]", issue.Location.Expression);
    }

    [Fact]
    public async Task Message_entry_reached_backward_is_reachable_and_only_a_non_provenance_is_remarked_on()
    {
        static string Pointing(string type, string extra) =>
            $$""", { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a05", "resource": { "resourceType": "{{type}}"{{extra}} } }""";
        var provenance = Pointing("Provenance", $$""", "target": [ { "reference": "{{AllergyUrl}}" } ], "recorded": "2024-01-01T00:00:00Z", "agent": [ { "who": { "display": "someone" } } ]""");
        var basic = Pointing("Basic", $$""", "code": { "text": "note" }, "subject": { "reference": "{{PatientUrl}}" }""");

        var withProvenance = await ValidateAsync(Message(extraEntries: provenance));
        var withBasic = await ValidateAsync(Message(extraEntries: basic));

        Assert.DoesNotContain(withProvenance.Issues, i => i.Rule.StartsWith("bdl-message", StringComparison.Ordinal));
        Assert.DoesNotContain(withBasic.Issues, i => i.Rule == "bdl-message-orphan");
        Assert.Equal(OperationOutcome.IssueSeverity.Information, EngineTestSupport.Single(withBasic, "bdl-message-reverse").Severity);
        EngineTestSupport.AssertNoErrors(withBasic);
    }

    [Fact]
    public async Task Message_reference_meaning_an_entry_only_by_type_and_id_is_an_error()
    {
        // From a urn:uuid entry, Patient/p9 does not resolve by the fullUrl rules although an entry is Patient p9.
        var patient = """, { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a06", "resource": { "resourceType": "Patient", "id": "p9" } }""";
        var observation = """
            , { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a07", "resource": { "resourceType": "Observation", "status": "final",
                "code": { "text": "x" }, "subject": { "reference": "Patient/p9" }, "focus": [ { "reference": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a03" } ] } }
            """;

        var result = await ValidateAsync(Message(extraEntries: patient + observation));

        Assert.Contains(Errors(result), i => i.Rule == "bdl-reference" && i.Location.Expression == "Bundle");
    }

    [Fact]
    public async Task Message_link_uri_meaning_an_entry_only_by_type_and_id_is_an_error_too()
    {
        // The reference validator resolves uri and url values as it resolves References, errors included.
        var patient = """, { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a06", "resource": { "resourceType": "Patient", "id": "p9" } }""";
        var link = """, "extension": [ { "url": "http://example.org/fhir/StructureDefinition/see-also", "valueUri": "Patient/p9" } ]""";

        var linked = await ValidateAsync(Message(link, patient));
        var unlinked = await ValidateAsync(Message(link.Replace("Patient/p9", "Patient/p8", StringComparison.Ordinal), patient));

        Assert.Contains(Errors(linked), i => i.Rule == "bdl-reference" && i.Location.Expression == "Bundle");
        Assert.DoesNotContain(Errors(unlinked), i => i.Rule == "bdl-reference");
    }

    [Fact]
    public async Task Message_not_starting_with_a_header_is_still_interlinked()
    {
        var json = Message(extraEntries: """, { "fullUrl": "urn:uuid:4f6a3c1e-2b7d-4e8f-9a10-1c2d3e4f5a08", "resource": { "resourceType": "Basic", "code": { "text": "note" } } }""")
            .Replace("\"resourceType\": \"MessageHeader\",", "\"resourceType\": \"Basic\", \"code\": { \"text\": \"header\" },", StringComparison.Ordinal)
            .Replace("\"eventUri\": \"http://example.org/fhir/message-events/allergy-notification\",", "", StringComparison.Ordinal)
            .Replace("\"source\": { \"endpoint\": \"http://example.org/fhir/endpoint\" },", "", StringComparison.Ordinal)
            .Replace("\"focus\": [ { \"reference\": \"" + AllergyUrl + "\" } ]", "\"subject\": { \"reference\": \"" + AllergyUrl + "\" }", StringComparison.Ordinal);

        var result = await ValidateAsync(json);

        Assert.Equal("Bundle.entry[0].resource", EngineTestSupport.Single(result, "bdl-message").Location.Expression);
        Assert.Equal(["Bundle.entry[4]"], result.Issues.Where(i => i.Rule == "bdl-message-orphan").Select(i => i.Location.Expression));
    }

    private const string Composition = """{ "resourceType": "Composition", "id": "c1", "status": "final", "type": { "text": "note" }, "date": "2024-01-01", "title": "Note", "author": [ { "display": "Dr A" } ] }""";

    private static string Document(string links, string extraEntries, string first = Composition) => $$"""
        {
          "resourceType": "Bundle",
          "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c00" },
          "type": "document",
          "timestamp": "2024-01-01T00:00:00Z"{{links}},
          "entry": [ {
            "fullUrl": "urn:uuid:5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c01",
            "resource": {{first}}
          }{{extraEntries}} ]
        }
        """;

    private const string StyleEntry = """, { "fullUrl": "urn:uuid:5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c02", "resource": { "resourceType": "Binary", "id": "style", "contentType": "text/css" } }""";

    [Fact]
    public async Task Document_stylesheet_entry_is_reachable_through_the_link()
    {
        var result = await ValidateAsync(Document(""", "link": [ { "relation": "stylesheet", "url": "Binary/style" } ]""", StyleEntry));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Document_stylesheet_naming_no_entry_is_an_error_and_leaves_the_entry_unreachable()
    {
        var result = await ValidateAsync(Document(""", "link": [ { "relation": "stylesheet", "url": "Binary/other" } ]""", StyleEntry));

        Assert.Equal(["Bundle.entry[2]", "Bundle.link[0].url"],
            Errors(result).Select(i => i.Location.Expression).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Document_stylesheet_outside_the_document_is_warned_unless_it_is_the_fhir_stylesheet()
    {
        var outside = await ValidateAsync(Document(""", "link": [ { "relation": "stylesheet", "url": "http://example.org/style.css" } ]""", ""));
        var fhir = await ValidateAsync(Document(""", "link": [ { "relation": "stylesheet", "url": "https://hl7.org/fhir/fhir.css" } ]""", ""));

        EngineTestSupport.AssertNoErrors(outside);
        Assert.Equal(2, outside.Issues.Count(i => i.Rule == "bdl-link" && i.Severity == OperationOutcome.IssueSeverity.Warning));
        Assert.DoesNotContain(fhir.Issues, i => i.Rule == "bdl-link");
    }

    [Fact]
    public async Task Document_not_starting_with_a_composition_still_needs_every_entry_reachable()
    {
        var json = Document("", """, { "fullUrl": "urn:uuid:5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c03", "resource": { "resourceType": "Patient", "active": true } }""",
            first: """{ "resourceType": "Basic", "code": { "text": "first" } }""");

        var result = await ValidateAsync(json);

        Assert.Equal(["Bundle.entry[0].resource", "Bundle.entry[2]"],
            Errors(result).Where(i => i.Rule.StartsWith("bdl-document", StringComparison.Ordinal)).Select(i => i.Location.Expression).Order(StringComparer.Ordinal));
    }

    // ---- Family 2: slicing by type through resolve() reads every target profile as the type it constrains ----

    private const string ProfileBase = "http://example.org/fhir/StructureDefinition/";

    private static readonly Lazy<FhirValidator> SlicingValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-family-tests-");
        void Write(string id, string type, string elements) => File.WriteAllText(Path.Combine(directory.FullName, $"StructureDefinition-{id}.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{ProfileBase}}{{id}}", "name": "{{id.Replace("-", "", StringComparison.Ordinal)}}", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "{{type}}",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/{{type}}", "derivation": "constraint",
              "differential": { "element": [ { "id": "{{type}}", "path": "{{type}}" }, {{elements}} ] }
            }
            """);
        Write("final-observation", "Observation", """{ "id": "Observation.status", "path": "Observation.status", "fixedCode": "final" }""");
        // hasMember sliced by the referenced resource's type, closed: a vital sign (HL7's profile in the core
        // namespace) or an Observation of our own profile; a QuestionnaireResponse, which the base allows, fits neither.
        Write("vitals-panel", "Observation", $$"""
            { "id": "Observation.hasMember", "path": "Observation.hasMember", "slicing": { "discriminator": [ { "type": "type", "path": "resolve()" } ], "rules": "closed" } },
            { "id": "Observation.hasMember:vital", "path": "Observation.hasMember", "sliceName": "vital", "max": "1",
              "type": [ { "code": "Reference", "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/vitalsigns" ] } ] }
            """);
        Write("final-panel", "Observation", $$"""
            { "id": "Observation.hasMember", "path": "Observation.hasMember", "slicing": { "discriminator": [ { "type": "type", "path": "resolve()" } ], "rules": "closed" } },
            { "id": "Observation.hasMember:final", "path": "Observation.hasMember", "sliceName": "final",
              "type": [ { "code": "Reference", "targetProfile": [ "{{ProfileBase}}final-observation" ] } ] }
            """);
        Write("named-practitioner", "Practitioner", """{ "id": "Practitioner.name", "path": "Practitioner.name", "min": 1 }""");
        // Entries sliced by resource type: Organizations in two slices the discriminator cannot tell apart, a Patient
        // that must meet a profile nobody has, a Practitioner whose element the profile constrains inside.
        Write("entry-bundle", "Bundle", $$"""
            { "id": "Bundle.entry", "path": "Bundle.entry", "slicing": { "discriminator": [ { "type": "type", "path": "resource" } ], "rules": "open" } },
            { "id": "Bundle.entry:practice", "path": "Bundle.entry", "sliceName": "practice" },
            { "id": "Bundle.entry:practice.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Organization" } ] },
            { "id": "Bundle.entry:payer", "path": "Bundle.entry", "sliceName": "payer" },
            { "id": "Bundle.entry:payer.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Organization" } ] },
            { "id": "Bundle.entry:patient", "path": "Bundle.entry", "sliceName": "patient" },
            { "id": "Bundle.entry:patient.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Patient", "profile": [ "{{ProfileBase}}nobody-has-this" ] } ] },
            { "id": "Bundle.entry:practitioner", "path": "Bundle.entry", "sliceName": "practitioner" },
            { "id": "Bundle.entry:practitioner.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Practitioner", "profile": [ "{{ProfileBase}}named-practitioner" ] } ] },
            { "id": "Bundle.entry:practitioner.resource.active", "path": "Bundle.entry.resource.active", "min": 1 },
            { "id": "Bundle.entry:device", "path": "Bundle.entry", "sliceName": "device" },
            { "id": "Bundle.entry:device.resource", "path": "Bundle.entry.resource", "type": [ { "code": "Device", "profile": [ "{{ProfileBase}}nobody-has-this-either" ] } ] },
            { "id": "Bundle.entry:device.resource.status", "path": "Bundle.entry.resource.status", "min": 1 }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private const string HeartRate = """
        { "resourceType": "Observation", "status": "final",
          "category": [ { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs" } ] } ],
          "code": { "coding": [ { "system": "http://loinc.org", "code": "8867-4" } ] },
          "subject": { "display": "someone" }, "effectiveDateTime": "2024-01-01",
          "valueQuantity": { "value": 60, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min" } }
        """;

    private const string Questionnaire = """
        { "resourceType": "QuestionnaireResponse", "status": "completed" }
        """;

    private static string Panel(string profile, string member) => $$"""
        { "resourceType": "Bundle", "type": "collection", "entry": [
          { "fullUrl": "urn:uuid:3b1f6d2e-7c4a-4e59-8a0b-2c3d4e5f6a01", "resource": { "resourceType": "Observation", "status": "final",
            "meta": { "profile": [ "{{ProfileBase}}{{profile}}" ] }, "code": { "text": "panel" }, "subject": { "display": "someone" },
            "hasMember": [ { "reference": "urn:uuid:3b1f6d2e-7c4a-4e59-8a0b-2c3d4e5f6a02" } ] } },
          { "fullUrl": "urn:uuid:3b1f6d2e-7c4a-4e59-8a0b-2c3d4e5f6a02", "resource": {{member}} } ] }
        """;

    [Theory]
    [InlineData("vitals-panel")]
    [InlineData("final-panel")]
    public async Task Type_slice_through_resolve_admits_the_type_a_target_profile_constrains(string profile)
    {
        var result = await SlicingValidator.Value.ValidateAsync(Panel(profile, HeartRate), ResourceFormat.Json, ValidationOptions.Reference);

        Assert.DoesNotContain(result.Issues, i => i.Rule.StartsWith("slic", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("vitals-panel")]
    [InlineData("final-panel")]
    public async Task Type_slice_through_resolve_rejects_another_type_the_base_allows(string profile)
    {
        var result = await SlicingValidator.Value.ValidateAsync(Panel(profile, Questionnaire), ResourceFormat.Json, ValidationOptions.Reference);

        Assert.Equal("Bundle.entry[0].resource.hasMember[0]", EngineTestSupport.Single(result, "slicing-closed").Location.Expression);
    }

    // ---- Family 3: the remaining R4 expressions the reference validator corrects before evaluating ----

    private static string StructureDefinition(string path, string name = "FamilyPatient") => $$"""
        {
          "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/family-patient", "name": "{{name}}",
          "status": "draft", "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Patient",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
          "differential": { "element": [ { "id": "{{path}}", "path": "{{path}}", "min": 1 } ] }
        }
        """;

    private static async Task<List<string>> RulesAt(string json, string rule, OperationOutcome.IssueSeverity severity) =>
        (await ValidateAsync(json)).Issues.Where(i => i.Rule == rule && i.Severity == severity).Select(i => i.Location.Expression).ToList();

    [Fact]
    public async Task Element_path_must_be_free_of_special_characters_as_a_whole()
    {
        // eld-19 looks for its pattern anywhere, as R4 published it: "Patient.name x" held. Anchored, it fails.
        Assert.Empty(await RulesAt(StructureDefinition("Patient.name"), "eld-19", OperationOutcome.IssueSeverity.Error));
        Assert.Equal(["StructureDefinition.differential.element[0]"],
            await RulesAt(StructureDefinition("Patient.name x"), "eld-19", OperationOutcome.IssueSeverity.Error));
    }

    [Fact]
    public async Task Element_path_segments_after_the_type_start_lower_case_as_a_whole()
    {
        Assert.Empty(await RulesAt(StructureDefinition("Patient.birthDate"), "eld-20", OperationOutcome.IssueSeverity.Warning));
        Assert.Equal(["StructureDefinition.differential.element[0]"],
            await RulesAt(StructureDefinition("Patient.BirthDate"), "eld-20", OperationOutcome.IssueSeverity.Warning));
    }

    [Fact]
    public async Task Canonical_resource_name_must_be_an_identifier_as_a_whole()
    {
        Assert.Empty(await RulesAt(StructureDefinition("Patient.name", "FamilyPatient"), "sdf-0", OperationOutcome.IssueSeverity.Warning));
        Assert.Equal(["StructureDefinition"], await RulesAt(StructureDefinition("Patient.name", "family Patient"), "sdf-0", OperationOutcome.IssueSeverity.Warning));
    }

    private static string OperationDefinition(string type) => $$"""
        {
          "resourceType": "OperationDefinition", "url": "http://example.org/fhir/OperationDefinition/family-op", "name": "FamilyOp",
          "status": "draft", "kind": "operation", "code": "family", "system": false, "type": true, "instance": false, "resource": [ "Patient" ],
          "parameter": [ { "name": "input", "use": "in", "min": 0, "max": "1", "type": "{{type}}",
            "targetProfile": [ "http://hl7.org/fhir/StructureDefinition/Patient" ] } ]
        }
        """;

    [Theory]
    [InlineData("Reference", false)]
    [InlineData("canonical", false)]
    [InlineData("Patient", false)]
    [InlineData("Resource", false)]
    [InlineData("string", true)]
    public async Task Operation_parameter_with_a_target_profile_is_a_reference_a_canonical_or_a_resource(string type, bool fails)
    {
        var at = await RulesAt(OperationDefinition(type), "opd-3", OperationOutcome.IssueSeverity.Error);

        Assert.Equal(fails ? ["OperationDefinition.parameter[0]"] : [], at);
    }

    [Fact]
    public async Task Narrative_is_asked_of_the_root_resource_only()
    {
        var json = """
            { "resourceType": "Observation", "contained": [ { "resourceType": "Patient", "id": "p" } ],
              "status": "final", "code": { "text": "x" }, "subject": { "reference": "#p" } }
            """;
        var withNarrative = json.Replace("\"status\": \"final\"",
            "\"text\": { \"status\": \"generated\", \"div\": \"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">x</div>\" }, \"status\": \"final\"", StringComparison.Ordinal);

        Assert.Equal(["Observation"], await RulesAt(json, "dom-6", OperationOutcome.IssueSeverity.Warning));
        Assert.Empty(await RulesAt(withNarrative, "dom-6", OperationOutcome.IssueSeverity.Warning));
    }

    // ---- Family 4: rules the dev set's disagreements showed (bundle-enrl), each general ----

    private static Task<ValidationResult> ValidateEntriesAsync(string entries) =>
        SlicingValidator.Value.ValidateAsync($$"""
            { "resourceType": "Bundle", "meta": { "profile": [ "{{ProfileBase}}entry-bundle" ] }, "type": "collection", "entry": [ {{entries}} ] }
            """, ResourceFormat.Json, ValidationOptions.Reference);

    private static string Entry(int n, string resource) => $$"""{ "fullUrl": "urn:uuid:6c2d8e1f-4a3b-4c5d-9e6f-7a8b9c0d1e{{n:D2}}", "resource": {{resource}} }""";

    [Fact]
    public async Task Item_two_slices_admit_is_an_error_at_the_item()
    {
        var result = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Organization", "name": "Acme" }""")
            + ", " + Entry(2, """{ "resourceType": "Practitioner", "active": true }"""));

        Assert.Equal(["Bundle.entry[0]"], Errors(result).Where(i => i.Rule == "slicing-ambiguous").Select(i => i.Location.Expression));
    }

    [Fact]
    public async Task Unknown_profile_of_a_resource_element_is_reported_twice_at_the_element()
    {
        var result = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Patient", "active": true }"""));

        Assert.Equal(["Bundle.entry[0].resource", "Bundle.entry[0].resource"],
            Errors(result).Where(i => i.Rule == "profile-unknown").Select(i => i.Location.Expression));
    }

    [Fact]
    public async Task Resource_element_constrained_inside_is_validated_against_its_type_profile_and_the_constraints()
    {
        // The slice's type profile (a name) and the Bundle profile's constraint inside the entry (active) both apply.
        var unnamed = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Practitioner", "active": true }"""));
        var inactive = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Practitioner", "name": [ { "family": "Doe" } ] }"""));
        var both = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Practitioner", "active": true, "name": [ { "family": "Doe" } ] }"""));

        // The type profile's walk names its own element; the Bundle profile's snapshot carries the same rule inside the
        // entry (its snapshot generation merges the type profile in), reported from there too, as the reference validator does.
        Assert.Equal(["Bundle.entry.resource.name", "Practitioner.name"],
            Errors(unnamed).Where(i => i.Rule == "cardinality-min").Select(i => i.Message.Split(' ')[0]).Order(StringComparer.Ordinal));
        Assert.Equal(["Bundle.entry.resource.active"], Errors(inactive).Where(i => i.Rule == "cardinality-min").Select(i => i.Message.Split(' ')[0]));
        Assert.DoesNotContain(Errors(both), i => i.Rule == "cardinality-min");
    }

    [Fact]
    public async Task Constraints_inside_a_resource_element_whose_profile_is_unknown_are_not_applied()
    {
        var result = await ValidateEntriesAsync(Entry(1, """{ "resourceType": "Device" }"""));

        Assert.Equal(2, Errors(result).Count(i => i.Rule == "profile-unknown"));
        Assert.DoesNotContain(Errors(result), i => i.Rule == "cardinality-min");
    }

    private static string GeneralPractitioner(string reference, string type) => $$"""
        { "resourceType": "Bundle", "type": "collection", "entry": [
          { "fullUrl": "http://example.org/fhir/Patient/p1", "resource": { "resourceType": "Patient", "id": "p1",
            "generalPractitioner": [ { "reference": "{{reference}}", "type": "{{type}}" } ] } },
          { "fullUrl": "http://example.org/fhir/Practitioner/d1", "resource": { "resourceType": "Practitioner", "id": "d1" } } ] }
        """;

    [Fact]
    public async Task Reference_type_naming_the_referenced_type_is_accepted()
    {
        var result = await ValidateAsync(GeneralPractitioner("Practitioner/d1", "Practitioner"));

        Assert.DoesNotContain(Errors(result), i => i.Rule == "reference-target");
    }

    [Fact]
    public async Task Reference_type_that_is_not_the_referenced_type_is_an_error()
    {
        // Organization is a type generalPractitioner allows, but not the type of the Practitioner referenced.
        var result = await ValidateAsync(GeneralPractitioner("Practitioner/d1", "Organization"));

        Assert.Equal(["Bundle.entry[0].resource.generalPractitioner[0]"],
            Errors(result).Where(i => i.Rule == "reference-target").Select(i => i.Location.Expression));
    }

    [Fact]
    public async Task Reference_type_the_element_does_not_allow_is_an_error_as_well()
    {
        // "practitioner" is neither an allowed target type nor the referenced type: two errors, as the reference validator gives.
        var result = await ValidateAsync(GeneralPractitioner("Practitioner/d1", "practitioner"));

        Assert.Equal(2, Errors(result).Count(i => i.Rule == "reference-target" && i.Location.Expression == "Bundle.entry[0].resource.generalPractitioner[0]"));
    }

    [Theory]
    [InlineData("Patient/p1", false)]
    [InlineData("http://example.org/fhir/Patient/p1", false)]
    [InlineData("Patient/ p1", true)]
    [InlineData("Patient/p1\t", true)]
    public async Task Reference_with_whitespace_is_no_valid_reference(string literal, bool fails)
    {
        var json = $$"""{ "resourceType": "Observation", "status": "final", "code": { "text": "x" }, "subject": { "reference": "{{literal.Replace("\t", "\\t", StringComparison.Ordinal)}}" } }""";

        var at = Errors(await ValidateAsync(json)).Where(i => i.Rule == "reference-invalid").Select(i => i.Location.Expression);

        Assert.Equal(fails ? ["Observation.subject"] : [], at);
    }
}
