namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// R4 specification examples the reference validator accepts, one per rule family we used to reject them for
/// (SpecExamples/README.md); the families themselves are tested on small instances in <see cref="SpecExampleFamilyTests"/>.
/// </summary>
public sealed class SpecExampleRegressionTests
{
    [Theory]
    [InlineData("careplan-example-f202-malignancy.json")]
    [InlineData("observation-example-vitals-panel.json")]
    [InlineData("coverageeligibilityresponse-example.json")]
    [InlineData("questionnaire-example-bluebook.json")]
    [InlineData("riskassessment-example-prognosis.json")]
    [InlineData("patient-example-dicom.json")]
    [InlineData("messageheader-example.json")]
    public async Task Specification_example_validates_without_error(string file)
    {
        var json = EngineTestSupport.ExampleFile($"tests/FhirCaseService.Validation.Tests/SpecExamples/{file}");

        var result = await EngineTestSupport.ValidateJsonAsync(json, ValidationOptions.Reference);

        EngineTestSupport.AssertNoErrors(result);
    }
}
