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
        Assert.Equal("Bundle.entry[2].resource", issue.Location.Expression);
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

        Assert.Equal(["MedicationRequest", "MedicationRequest"],
            result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Error).Select(i => i.Location.Expression).Order());
    }

    private const string PatientProfile = EngineTestSupport.Profiles + "fhircase-patient";

    private static readonly ValidationOptions PatientProfileRequired = new()
    {
        RequiredProfiles = new Dictionary<string, IReadOnlyList<string>> { ["Patient"] = [PatientProfile] },
    };

    private const string DeclaredPatientProfile = $$"""
        "meta": { "profile": [ "{{PatientProfile}}" ] },
        """;

    /// <summary>A collection of a valid Observation and a named Patient (our patient profile forbids names) that may also declare the profile.</summary>
    private static string NamedPatientCollection(bool declaresProfile) => $$"""
        {
          "resourceType": "Bundle",
          "type": "collection",
          "entry": [
            { "fullUrl": "{{DiagnosisUrn}}", "resource": {{EngineTestSupport.Observation()}} },
            {
              "fullUrl": "{{PatientUrn}}",
              "resource": {
                "resourceType": "Patient",
                {{(declaresProfile ? DeclaredPatientProfile : "")}}
                "name": [ { "family": "Named" } ]
              }
            }
          ]
        }
        """;

    [Fact]
    public async Task Required_profile_is_applied_to_a_bundle_entry_of_its_type_with_the_entry_index()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(NamedPatientCollection(declaresProfile: false), PatientProfileRequired);

        var issue = Assert.Single(result.Issues, i => i.Location.Expression == "Bundle.entry[1].resource" && i.Rule == "cardinality-max" && i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal(1, issue.Location.Entry);
        Assert.DoesNotContain(result.Issues, i => i.Location.Entry == 0 && i.Severity == OperationOutcome.IssueSeverity.Error);
    }

    [Fact]
    public async Task Required_profile_that_the_entry_also_declares_is_applied_once()
    {
        var declaredOnly = await EngineTestSupport.ValidateJsonAsync(NamedPatientCollection(declaresProfile: true));
        var declaredAndRequired = await EngineTestSupport.ValidateJsonAsync(NamedPatientCollection(declaresProfile: true), PatientProfileRequired);

        Assert.Single(declaredAndRequired.Issues, i => i.Location.Expression == "Bundle.entry[1].resource" && i.Rule == "cardinality-max");
        Assert.Equal(EngineTestSupport.Describe(declaredOnly), EngineTestSupport.Describe(declaredAndRequired));
    }

    [Fact]
    public async Task Without_the_requirement_an_undeclared_profile_is_not_applied_to_entries()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(NamedPatientCollection(declaresProfile: false));

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Issues_carry_the_index_of_their_entry_and_bundle_issues_none()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction("""
            {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "subject": { "reference": "urn:uuid:00000000-0000-0000-0000-000000000000" }
              }
            """).Replace("\"type\": \"transaction\"", "\"type\": \"transaction\", \"total\": 3"));

        Assert.Equal(2, EngineTestSupport.Single(result, "reference-unresolved").Location.Entry);
        var bundleRule = EngineTestSupport.Single(result, "bdl-1");
        Assert.Equal("Bundle", bundleRule.Location.Expression);
        Assert.Null(bundleRule.Location.Entry);
        Assert.All(result.Issues, i => Assert.Equal(EntryNamedIn(i.Location.Expression), i.Location.Entry));
    }

    [Fact]
    public async Task Parser_findings_inside_entries_carry_their_entry_index()
    {
        var result = await EngineTestSupport.ValidateJsonAsync(Transaction("""
            {
                "resourceType": "Observation",
                "status": "final",
                "code": { "text": "x" },
                "valueQuantity": { "value": "not a number" },
                "unknownElement": true
              }
            """).Replace("\"gender\": \"female\"", "\"gender\": \"female\", \"active\": \"yes\""));

        var patientIssue = Assert.Single(result.Issues, i => i.Location.Expression.Contains("active", StringComparison.Ordinal));
        Assert.Equal(0, patientIssue.Location.Entry);
        var observationIssues = result.Issues.Where(i => i.Location.Expression.Contains("unknownElement", StringComparison.Ordinal)
            || i.Location.Expression.Contains("value", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, observationIssues.Count);
        Assert.All(observationIssues, i => Assert.Equal(2, i.Location.Entry));
        Assert.All(result.Issues, i => Assert.NotNull(i.Location.Line));
    }

    [Fact]
    public async Task Issues_of_an_xml_bundle_carry_their_entry_index()
    {
        const string xml = """
            <Bundle xmlns="http://hl7.org/fhir">
              <type value="collection"/>
              <entry>
                <fullUrl value="urn:uuid:6f1c7c38-2b0e-4b4a-9c55-1c1b7a3d5e01"/>
                <resource><Patient><gender value="female"/></Patient></resource>
              </entry>
              <entry>
                <fullUrl value="urn:uuid:6f1c7c38-2b0e-4b4a-9c55-1c1b7a3d5e02"/>
                <resource><Patient><active value="yes"/><gender value="nonsense"/></Patient></resource>
              </entry>
            </Bundle>
            """;

        var result = await EngineTestSupport.Validator.ValidateAsync(xml, ResourceFormat.Xml);

        var errors = result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Error).ToList();
        // active: not a boolean; gender: not in the required ValueSet, and so without a code system.
        Assert.Equal(3, errors.Count);
        Assert.All(errors, i => Assert.Equal(1, i.Location.Entry));
        Assert.All(result.Issues, i => Assert.Equal(EntryNamedIn(i.Location.Expression), i.Location.Entry));
    }

    /// <summary>What the entry index must be, read back from the expression (in the test only, as the oracle).</summary>
    private static int? EntryNamedIn(string expression) =>
        expression.StartsWith("Bundle.entry[", StringComparison.Ordinal)
            ? int.Parse(expression["Bundle.entry[".Length..expression.IndexOf(']')], System.Globalization.CultureInfo.InvariantCulture)
            : null;
}
