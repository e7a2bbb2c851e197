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

    /// <summary>A body mass index as the R4 vital signs profile shapes it; its LOINC code makes the profile apply.</summary>
    private const string BodyMassIndex = """
        {
          "resourceType": "Observation",
          "status": "final",
          "category": [ { "coding": [ { "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs" } ] } ],
          "code": { "coding": [ { "system": "http://loinc.org", "code": "39156-5" } ] },
          "subject": { "reference": "Patient/p1" },
          "effectiveDateTime": "2020-01-01",
          "valueQuantity": { "value": 16.2, "unit": "kg/m2", "system": "http://unitsofmeasure.org", "code": "kg/m2" },
          "derivedFrom": [ { "reference": "DERIVED" } ]
        }
        """;

    [Fact]
    public async Task Target_profile_in_the_core_namespace_is_met_by_a_reference_to_the_type_it_constrains()
    {
        // vitalsigns' derivedFrom allows .../StructureDefinition/vitalsigns, a profile on Observation, not a type named "vitalsigns".
        var result = await ValidateAsync(BodyMassIndex.Replace("DERIVED", "Observation/height", StringComparison.Ordinal));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Target_profile_in_the_core_namespace_still_rejects_a_type_it_does_not_constrain()
    {
        var result = await ValidateAsync(BodyMassIndex.Replace("DERIVED", "Patient/p1", StringComparison.Ordinal));

        Assert.Contains(Errors(result), i => i.Rule == "reference-target" && i.Location.Expression == "Observation.derivedFrom[0]");
    }

    [Theory]
    [InlineData("patient/p1")]
    [InlineData("http://server.example.org/fhir/practitioner/p1")]
    public async Task Reference_whose_type_segment_is_not_spelled_as_a_resource_type_is_not_judged_by_type(string reference)
    {
        var result = await ValidateAsync(EngineTestSupport.Observation().Replace("Patient/p1", reference, StringComparison.Ordinal));

        Assert.DoesNotContain(result.Issues, i => i.Rule == "reference-target");
    }

    [Fact]
    public async Task Reference_whose_type_segment_is_a_resource_type_is_judged_by_type()
    {
        var result = await ValidateAsync(EngineTestSupport.Observation().Replace("Patient/p1", "Practitioner/p1", StringComparison.Ordinal));

        Assert.Equal("Observation.subject", EngineTestSupport.Single(result, "reference-target").Location.Expression);
    }

    [Theory]
    [InlineData("Patient/1", true)]
    [InlineData("patient/1", false)]
    [InlineData("http://server.example.org/fhir/PATIENT/1", false)]
    public void Resource_address_needs_the_type_spelled_as_the_type(string reference, bool parsed) =>
        Assert.Equal(parsed, ResourceAddress.Parse(reference) is not null);

    // The R4 regexes are Java's: \s there is ASCII whitespace only, so a no-break space is content, and a tab is not.
    [Theory]
    [InlineData("string", "Sean Stover, BS,\u00a0DVM")]
    [InlineData("string", "Acme\u202fHealthcare")]
    [InlineData("markdown", "no-break\u00a0space")]
    [InlineData("code", "no-break\u00a0space")]
    [InlineData("uri", "http://example.org/a\u00a0b")]
    public void Unicode_space_is_content_in_the_specification_regexes(string type, string literal) =>
        Assert.Null(FhirCaseService.Validation.Primitives.PrimitiveFormats.Check(type, literal));

    [Theory]
    [InlineData("code", "tab\tinside")]
    [InlineData("uri", "http://example.org/a\tb")]
    [InlineData("uri", "http://example.org/a b")]
    [InlineData("string", "\u000b")]
    public void Ascii_whitespace_is_still_whitespace_in_the_specification_regexes(string type, string literal) =>
        Assert.NotNull(FhirCaseService.Validation.Primitives.PrimitiveFormats.Check(type, literal));

    [Fact]
    public async Task Display_with_a_no_break_space_is_a_valid_string()
    {
        var result = await ValidateAsync(EngineTestSupport.Observation().Replace("\"Patient/p1\"", "\"Patient/p1\", \"display\": \"Sean Stover, BS,\u00a0DVM\"", StringComparison.Ordinal));

        EngineTestSupport.AssertNoErrors(result);
    }

    private static string QuestionWhen(string enableWhen, string behavior = "") => $$"""
        {
          "resourceType": "Questionnaire",
          "status": "draft",
          "item": [
            { "linkId": "given", "type": "boolean" },
            { "linkId": "doses", "type": "integer", {{behavior}} "enableWhen": [ {{enableWhen}} ] }
          ]
        }
        """;

    [Fact]
    public async Task Exists_condition_with_a_boolean_answer_meets_que_7()
    {
        var result = await ValidateAsync(QuestionWhen("""{ "question": "given", "operator": "exists", "answerBoolean": true }"""));

        Assert.DoesNotContain(result.Issues, i => i.Rule == "que-7");
    }

    [Fact]
    public async Task Exists_condition_with_another_answer_type_fails_que_7()
    {
        var result = await ValidateAsync(QuestionWhen("""{ "question": "given", "operator": "exists", "answerString": "yes" }"""));

        Assert.Equal("Questionnaire.item[1].enableWhen[0]", EngineTestSupport.Single(result, "que-7").Location.Expression);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("\"enableBehavior\": \"all\",", false)]
    public async Task Two_conditions_need_an_enable_behavior(string behavior, bool fails)
    {
        var twoConditions = """{ "question": "given", "operator": "=", "answerBoolean": true }, { "question": "given", "operator": "exists", "answerBoolean": true }""";

        var result = await ValidateAsync(QuestionWhen(twoConditions, behavior));

        Assert.Equal(fails, result.Issues.Any(i => i.Rule == "que-12"));
    }

    private static string Prediction(string probability) => $$"""
        {
          "resourceType": "RiskAssessment",
          "status": "final",
          "subject": { "reference": "Patient/p1" },
          "prediction": [ { "outcome": { "text": "an outcome" }{{probability}} } ]
        }
        """;

    [Theory]
    [InlineData("")]
    [InlineData(", \"probabilityDecimal\": 40")]
    [InlineData(", \"probabilityRange\": { \"low\": { \"value\": 200 } }")]
    public async Task Prediction_without_a_probability_over_100_meets_ras_2(string probability)
    {
        var result = await ValidateAsync(Prediction(probability));

        Assert.DoesNotContain(result.Issues, i => i.Rule == "ras-2");
    }

    [Fact]
    public async Task Prediction_with_a_probability_over_100_fails_ras_2()
    {
        var result = await ValidateAsync(Prediction(", \"probabilityDecimal\": 150"));

        Assert.Equal("RiskAssessment.prediction[0]", EngineTestSupport.Single(result, "ras-2").Location.Expression);
    }

    private static string TimedRequest(string when) => $$"""
        {
          "resourceType": "MedicationRequest",
          "status": "active",
          "intent": "order",
          "medicationCodeableConcept": { "text": "a medication" },
          "subject": { "reference": "Patient/p1" },
          "dosageInstruction": [ { "timing": { "repeat": { "when": [ {{when}} ], "offset": 30 } } } ]
        }
        """;

    [Fact]
    public async Task Offset_with_several_events_none_a_meal_meets_tim_9()
    {
        var result = await ValidateAsync(TimedRequest("\"MORN\", \"EVE\""));

        Assert.DoesNotContain(result.Issues, i => i.Rule == "tim-9");
    }

    [Fact]
    public async Task Offset_with_a_meal_among_several_events_fails_tim_9()
    {
        var result = await ValidateAsync(TimedRequest("\"MORN\", \"CM\""));

        Assert.Equal("MedicationRequest.dosageInstruction[0].timing.repeat", EngineTestSupport.Single(result, "tim-9").Location.Expression);
    }

    [Theory]
    [InlineData("extension", "http://nema.org/fhir/extensions#0010:1010")]
    [InlineData("modifierExtension", "http://nema.org/examples/extensions#gender")]
    [InlineData("extension", "http://hl7.org/fhir/tools/StructureDefinition/some-tooling-extension")]
    public async Task Dicom_and_hl7_tooling_extensions_are_accepted_without_a_definition(string element, string url)
    {
        var result = await ValidateAsync($$"""{ "resourceType": "Patient", "{{element}}": [ { "url": "{{url}}", "valueString": "x" } ] }""");

        EngineTestSupport.AssertNoErrors(result);
        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Warning && i.Location.Expression == $"Patient.{element}[0]");
    }

    [Theory]
    [InlineData("extension", "unknown-extension")]
    [InlineData("modifierExtension", "unknown-modifier-extension")]
    public async Task Extension_on_another_host_without_a_definition_is_still_an_error(string element, string rule)
    {
        var result = await ValidateAsync($$"""{ "resourceType": "Patient", "{{element}}": [ { "url": "http://dicom.invalid/fhir/extensions#0010:1010", "valueString": "x" } ] }""");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, EngineTestSupport.Single(result, rule).Severity);
    }

    private static async Task<bool> FailsTxt1(string inner)
    {
        var json = $$"""{ "resourceType": "Basic", "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">{{inner}}</div>" }, "code": { "text": "x" } }""";
        var result = await ValidateAsync(json);
        return result.Issues.Any(i => i.Rule == "txt-1");
    }

    // txt-1 by the reference validator's own tables of element and attribute names.
    [Theory]
    [InlineData("<address>1 Main Street</address>")]
    [InlineData("<p>press <kbd>Enter</kbd></p>")]
    [InlineData("<p><bdo dir='rtl'>text</bdo></p>")]
    [InlineData("<img src='#a' usemap='#m'/><map name='m'><area shape='rect' coords='0,0,1,1' href='#a' alt='a'/></map>")]
    [InlineData("<pre xml:space='preserve'>text</pre>")]
    [InlineData("<table border='1' cellpadding='2'><tr><td nowrap='nowrap' colspan='2'>text</td></tr></table>")]
    public async Task Narrative_names_the_reference_validator_allows_meet_txt_1(string inner) => Assert.False(await FailsTxt1(inner));

    [Theory]
    [InlineData("<ol start='3'><li>text</li></ol>")]
    [InlineData("<table><tr><td bgcolor='red'>text</td></tr></table>")]
    [InlineData("<p href='#a'>text</p>")]
    [InlineData("<span src='#a'>text</span>")]
    [InlineData("<p>text</p><font>old</font>")]
    public async Task Narrative_names_the_reference_validator_does_not_allow_fail_txt_1(string inner) => Assert.True(await FailsTxt1(inner));

    // uri, url and canonical literals as the reference validator judges them, not by .NET's URI parser.
    [Theory]
    [InlineData("uri", "urn:uuid:8ce7db7b-9b9b-41ae-b1d7-3f2d1c728a13#AllergyIntolerance-urn:uuid:edf25255-bfcd-4e29-a797-e89ea4ef000c")]
    [InlineData("uri", "http://.........?")]
    [InlineData("canonical", "http:////acme.com/ehr/fhir/messagedefinition/patientrequest")]
    [InlineData("canonical", "urn:uuid:8ce7db7b-9b9b-41ae-b1d7-3f2d1c728a13|2.0")]
    [InlineData("canonical", "#local")]
    [InlineData("uri", "urn:oid:1.2.36.146.595.217.0.1")]
    [InlineData("uri", "Patient/123")]
    [InlineData("canonical", "Library/zika-virus-intervention-logic")]
    public void Uri_literal_the_reference_validator_accepts_is_valid(string type, string literal) =>
        Assert.Null(FhirCaseService.Validation.Primitives.PrimitiveFormats.Check(type, literal));

    [Theory]
    [InlineData("uri", "urn:uuid:68D043B5-9ECF-4559-A57A-396E0D452311")]
    [InlineData("canonical", "urn:oid:X.Y.Z")]
    [InlineData("uri", "urn:oid:2.16")]
    [InlineData("uri", "uuid:8ce7db7b-9b9b-41ae-b1d7-3f2d1c728a13")]
    public void Uri_literal_the_reference_validator_rejects_is_invalid(string type, string literal) =>
        Assert.NotNull(FhirCaseService.Validation.Primitives.PrimitiveFormats.Check(type, literal));

    [Theory]
    [InlineData("http:////acme.com/ehr/fhir/messagedefinition/patientrequest", false)]
    [InlineData("urn:oid:X.Y.Z", true)]
    public async Task Canonical_in_a_resource_is_judged_by_the_reference_validator_rules(string definition, bool fails)
    {
        var json = $$"""
            {
              "resourceType": "MessageHeader",
              "eventCoding": { "system": "http://example.org/fhir/message-events", "code": "patient-link" },
              "source": { "endpoint": "http://example.org/fhir" },
              "definition": "{{definition}}"
            }
            """;

        var result = await ValidateAsync(json);

        Assert.Equal(fails, Errors(result).Any(i => i.Rule == "primitive-format" && i.Location.Expression == "MessageHeader.definition"));
    }

    private static string NarrativeLinkDocument(string fragment) => $$"""
        {
          "resourceType": "Bundle",
          "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0" },
          "type": "document",
          "timestamp": "2024-01-01T00:00:00Z",
          "entry": [ {
            "fullUrl": "urn:uuid:8ce7db7b-9b9b-41ae-b1d7-3f2d1c728a13",
            "resource": {
              "resourceType": "Composition",
              "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p id=\"allergy-1\">peanut</p><p id=\"twice\">a</p><p id=\"twice\">b</p></div>" },
              "status": "final",
              "type": { "text": "summary" },
              "subject": { "reference": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a12" },
              "date": "2024-01-01",
              "author": [ { "display": "someone" } ],
              "title": "summary",
              "section": [ { "title": "allergies", "entry": [ { "reference": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a13" } ] } ]
            }
          }, {
            "fullUrl": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a12",
            "resource": { "resourceType": "Patient" }
          }, {
            "fullUrl": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a13",
            "resource": {
              "resourceType": "AllergyIntolerance",
              "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/narrativeLink", "valueUrl": "urn:uuid:8ce7db7b-9b9b-41ae-b1d7-3f2d1c728a13#{{fragment}}" } ],
              "patient": { "reference": "urn:uuid:6f1ad5e2-1b0e-4c55-9a0e-5d6f3c2b9a12" }
            }
          } ]
        }
        """;

    [Fact]
    public async Task Narrative_link_naming_one_id_in_its_entry_resolves()
    {
        var result = await ValidateAsync(NarrativeLinkDocument("allergy-1"));

        Assert.DoesNotContain(result.Issues, i => i.Rule == "bdl-fragment");
    }

    [Theory]
    [InlineData("nothing-here")]
    [InlineData("twice")]
    public async Task Narrative_link_naming_no_id_or_two_ids_is_an_error_at_the_bundle(string fragment)
    {
        var result = await ValidateAsync(NarrativeLinkDocument(fragment));

        var issue = EngineTestSupport.Single(result, "bdl-fragment");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Bundle", issue.Location.Expression);
    }
}
