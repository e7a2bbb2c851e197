using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

public sealed class ExtensionTests
{
    private static Observation WithExtension(Extension extension) => new()
    {
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("http://loinc.org", "8277-6"),
        Extension = [extension],
    };

    [Fact]
    public async Task Unknown_extension_is_a_warning_by_default()
    {
        var observation = WithExtension(new Extension("http://example.org/unknown", new FhirString("x")));

        var result = await EngineTestSupport.ValidateAsync(observation);

        var issue = EngineTestSupport.Single(result, "unknown-extension");
        Assert.Equal(OperationOutcome.IssueSeverity.Warning, issue.Severity);
        Assert.Equal("Observation.extension[0]", issue.Location.Expression);
        Assert.False(result.HasErrors);
    }

    [Fact]
    public async Task Unknown_extension_is_an_error_when_the_option_says_so()
    {
        var observation = WithExtension(new Extension("http://example.org/unknown", new FhirString("x")));

        var result = await EngineTestSupport.ValidateAsync(observation, new ValidationOptions { UnknownExtensionsAreErrors = true });

        Assert.Equal(OperationOutcome.IssueSeverity.Error, EngineTestSupport.Single(result, "unknown-extension").Severity);
    }

    [Fact]
    public async Task Unknown_modifier_extension_is_an_error()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/hsct-unknown-modifier-extension.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "unknown-modifier-extension");

        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Procedure.modifierExtension[0]", issue.Location.Expression);
    }

    [Fact]
    public async Task Core_extension_is_resolved_by_url_and_its_value_type_checked()
    {
        var observation = WithExtension(new Extension("http://hl7.org/fhir/StructureDefinition/data-absent-reason", new FhirString("unknown")));

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateAsync(observation), "extension-value-type");

        Assert.Equal("Observation.extension[0]", issue.Location.Expression);
    }

    [Fact]
    public async Task Package_extension_with_wrong_value_type_is_reported_on_the_extension()
    {
        var json = EngineTestSupport.ExampleFile("examples/invalid/disease-status-relapse-number-wrong-type.json");

        var issue = EngineTestSupport.Single(await EngineTestSupport.ValidateJsonAsync(json), "extension-value-type");

        Assert.Equal("Observation.extension[0]", issue.Location.Expression);
        Assert.NotNull(issue.Location.Line);
    }

    [Fact]
    public async Task Missing_sub_extension_of_a_complex_extension_is_a_slice_cardinality_error()
    {
        var administration = Conformance.Serialization.FhirSerialization.StrictJson.DeserializeResource(EngineTestSupport.ExampleFile("examples/resources/MedicationAdministration-example-ino-c1d1.json"));
        ((DomainResource)administration).Extension[0].Extension.RemoveAll(e => e.Url == "cycleDay");

        var result = await EngineTestSupport.ValidateAsync(administration);

        var issue = EngineTestSupport.Single(result, "slice-cardinality");
        Assert.Equal("MedicationAdministration.extension[0]", issue.Location.Expression);
        Assert.Contains("cycleDay", issue.Message);
    }

    [Fact]
    public async Task Extension_with_both_value_and_nested_extensions_breaks_ext_1()
    {
        var extension = new Extension("http://example.org/unknown", new FhirString("x"));
        extension.Extension.Add(new Extension("part", new FhirString("y")));

        var result = await EngineTestSupport.ValidateAsync(WithExtension(extension));

        Assert.Equal("Observation.extension[0]", EngineTestSupport.Single(result, "ext-1").Location.Expression);
    }
}
