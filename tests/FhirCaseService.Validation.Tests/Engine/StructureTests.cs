using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class StructureTests
{
    [Fact]
    public async Task Valid_core_observation_has_no_errors() =>
        EngineTestSupport.AssertNoErrors(await EngineTestSupport.ValidateJsonAsync(EngineTestSupport.Observation()));

    [Fact]
    public async Task Unknown_element_is_reported_where_it_is_written()
    {
        var json = EngineTestSupport.Observation("""

              "colour": "blue",
            """);

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "unknown-element");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Observation.colour", issue.Location.Expression);
        Assert.Equal((5, 3), (issue.Location.Line, issue.Location.Column));
    }

    [Fact]
    public async Task Unknown_element_inside_a_repeating_backbone_element_carries_its_index()
    {
        var json = EngineTestSupport.Observation("""

              "component": [
                { "code": { "text": "a" } },
                { "code": { "text": "b" }, "colour": "red" }
              ],
            """);

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "unknown-element");

        Assert.Equal("Observation.component[1].colour", issue.Location.Expression);
        Assert.Equal(7, issue.Location.Line);
    }

    [Fact]
    public async Task Wrong_json_type_is_a_structure_error()
    {
        var json = EngineTestSupport.Observation("""

              "valueQuantity": { "value": "three" },
            """);

        var result = await EngineTestSupport.ValidateJsonAsync(json);

        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error && i.Location.Expression == "Observation.value.ofType(Quantity).value" && i.Location.Line == 5);
    }

    [Fact]
    public async Task Text_that_is_not_json_is_one_fatal_issue()
    {
        var result = await EngineTestSupport.ValidateJsonAsync("{ not json");

        var issue = Assert.Single(result.Issues);
        Assert.Equal(OperationOutcome.IssueSeverity.Fatal, issue.Severity);
    }

    [Fact]
    public async Task Unknown_resource_type_is_one_fatal_issue()
    {
        var result = await EngineTestSupport.ValidateJsonAsync("""{ "resourceType": "Observaton", "status": "final" }""");

        Assert.True(result.HasErrors);
        Assert.Contains(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Fatal);
    }

    [Fact]
    public async Task Empty_element_breaks_ele_1()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Method = new CodeableConcept(),
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "ele-1");

        Assert.Equal("Observation.method", issue.Location.Expression);
    }

    [Fact]
    public async Task Choice_type_the_definition_does_not_allow_is_a_type_error()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Effective = new FhirString("yesterday"),
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "type");

        Assert.Equal("Observation.effective.ofType(string)", issue.Location.Expression);
    }

    [Fact]
    public async Task Xml_issues_carry_xml_line_and_column()
    {
        const string xml = """
            <Observation xmlns="http://hl7.org/fhir">
              <status value="final"/>
              <code>
                <coding><system value="http://loinc.org"/><code value="8277-6"/></coding>
              </code>
              <effectiveDateTime value="2021-02-30"/>
            </Observation>
            """;

        var result = await EngineTestSupport.Validator.ValidateAsync(xml, ResourceFormat.Xml);

        var issue = Assert.Single(result.Issues, i => i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Observation.effective.ofType(dateTime)", issue.Location.Expression);
        Assert.Equal((6, 3), (issue.Location.Line, issue.Location.Column));
    }

    [Fact]
    public async Task Same_resource_as_json_text_and_as_sdk_object_gives_the_same_findings()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/patient-name-present.json");
        var resource = Conformance.Serialization.FhirSerialization.StrictJson.DeserializeResource(json);

        var fromText = await EngineTestSupport.ValidateJsonAsync(json);
        var fromObject = await EngineTestSupport.ValidateAsync(resource);

        Assert.Equal(fromText.Issues.Select(i => (i.Rule, i.Location.Expression)), fromObject.Issues.Select(i => (i.Rule, i.Location.Expression)));
    }

    [Fact]
    public async System.Threading.Tasks.Task Resource_with_only_its_type_is_not_an_empty_element_but_an_empty_object_inside_is()
    {
        var bare = await EngineTestSupport.ValidateJsonAsync("""{ "resourceType": "Parameters" }""");
        var emptyInside = await EngineTestSupport.ValidateJsonAsync("""{ "resourceType": "Patient", "maritalStatus": {} }""");

        EngineTestSupport.AssertNoErrors(bare);
        Assert.True(emptyInside.HasErrors);
    }
}
