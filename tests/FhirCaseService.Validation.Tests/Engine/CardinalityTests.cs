using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class CardinalityTests
{
    [Fact]
    public async Task Missing_required_core_element_is_named_and_placed_at_its_parent()
    {
        const string json = """
            {
              "resourceType": "Observation",
              "code": { "text": "x" }
            }
            """;

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "cardinality-min");

        Assert.Equal("Observation", issue.Location.Expression);
        Assert.Contains("Observation.status", issue.Message, StringComparison.Ordinal);
        Assert.Equal(OperationOutcome.IssueType.Required, issue.Code);
        Assert.Equal(1, issue.Location.Line);
    }

    [Fact]
    public async Task Missing_element_inside_a_backbone_element_is_found_at_depth()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Component = [new Observation.ComponentComponent { Code = new CodeableConcept("http://loinc.org", "8277-6") }, new Observation.ComponentComponent { Value = new Quantity(3, "%") }],
        };

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "cardinality-min");

        Assert.Equal("Observation.component[1]", issue.Location.Expression);
    }

    [Fact]
    public async Task Missing_element_inside_a_datatype_is_found()
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8277-6"),
            Extension = [new Extension { Value = new FhirString("no url") }],
        };

        var result = await EngineTestSupport.ValidateAsync(observation);

        Assert.Contains(result.Issues, i => i.Rule == "cardinality-min" && i.Location.Expression == "Observation.extension[0]" && i.Message.Contains("Extension.url", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Element_the_profile_forbids_is_reported_on_its_parent()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/patient-name-present.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "cardinality-max");

        Assert.Equal("Patient", issue.Location.Expression);
        Assert.Contains("Patient.name", issue.Message, StringComparison.Ordinal);
        Assert.NotNull(issue.Location.Line);
    }

    [Fact]
    public async Task Profile_minimum_applies_to_core_optional_element()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/patient-gender-missing.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "cardinality-min");

        Assert.Equal("Patient", issue.Location.Expression);
        Assert.Contains("Patient.gender", issue.Message, StringComparison.Ordinal);
    }
}
