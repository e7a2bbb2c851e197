using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class FixedPatternTests
{
    [Fact]
    public async Task CodeableConcept_without_the_pattern_coding_breaks_the_pattern()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/diagnosis-code-not-bcpall.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "pattern");

        Assert.Equal("Condition.code", issue.Location.Expression);
        Assert.Contains("277571004", issue.Message);
    }

    [Fact]
    public async Task Quantity_pattern_inside_a_slice_is_a_slice_pattern_issue()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/cd22-antigen-density-wrong-unit.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "slice-pattern");

        Assert.Equal("Observation.component[0].value.ofType(Quantity)", issue.Location.Expression);
    }

    [Fact]
    public async Task Fixed_primitive_must_be_equal()
    {
        var observation = TestProfiles.ConformingObservation();
        observation.Status = ObservationStatus.Amended;

        var result = await TestProfiles.Validator.ValidateAsync(observation);

        var issue = EngineTestSupport.Single(result, "pattern");
        Assert.Equal("Observation.status", issue.Location.Expression);
        Assert.Contains("'final'", issue.Message);
    }

    public static TheoryData<DataType, DataType, bool> PatternCases() => new()
    {
        // A CodeableConcept pattern is met by a concept that has the coding among others.
        { new CodeableConcept { Coding = [new Coding("http://loinc.org", "1-8"), new Coding("http://snomed.info/sct", "277571004", "x")], Text = "t" }, new CodeableConcept("http://snomed.info/sct", "277571004"), true },
        { new CodeableConcept("http://hl7.org/fhir/sid/icd-10-cm", "C91.00"), new CodeableConcept("http://snomed.info/sct", "277571004"), false },
        { new Coding("http://snomed.info/sct", "277571004", "display"), new Coding("http://snomed.info/sct", "277571004"), true },
        { new Coding("http://loinc.org", "277571004"), new Coding("http://snomed.info/sct", "277571004"), false },
        { new Quantity { Value = 3, System = "http://unitsofmeasure.org", Code = "%" }, new Quantity { System = "http://unitsofmeasure.org", Code = "%" }, true },
        { new Quantity { Value = 3, System = "http://unitsofmeasure.org", Code = "mg" }, new Quantity { System = "http://unitsofmeasure.org", Code = "%" }, false },
        { new Identifier("https://fhircase.example.org/fhir/sid/case-series-pseudonym", "P1"), new Identifier { System = "https://fhircase.example.org/fhir/sid/case-series-pseudonym" }, true },
        { new Identifier("urn:other", "P1"), new Identifier { System = "https://fhircase.example.org/fhir/sid/case-series-pseudonym" }, false },
        { new FhirString("abc"), new FhirString("abc"), true },
        { new FhirDecimal(1.50m), new FhirDecimal(1.5m), true },
        { new Code("final"), new Code("amended"), false },
    };

    [Theory]
    [MemberData(nameof(PatternCases))]
    public void Pattern_is_met_when_every_part_of_it_is_present(DataType value, DataType pattern, bool expected)
    {
        var validator = new PatternValidator(pattern, "pattern");

        Assert.Equal(expected, validator.Matches(value.ToPocoNode(ModelInfo.ModelInspector)));
    }

    [Fact]
    public void Fixed_complex_value_rejects_extra_content()
    {
        var validator = new FixedValueValidator(new Coding("http://snomed.info/sct", "277571004"), "pattern");

        Assert.True(validator.Matches(new Coding("http://snomed.info/sct", "277571004").ToPocoNode(ModelInfo.ModelInspector)));
        Assert.False(validator.Matches(new Coding("http://snomed.info/sct", "277571004", "display").ToPocoNode(ModelInfo.ModelInspector)));
    }
}
