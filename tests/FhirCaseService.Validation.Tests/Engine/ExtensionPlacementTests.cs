using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Where an extension may sit (StructureDefinition.context and contextInvariant), its URL, Resource.id and the
/// unknown-extension policy, on two small extension definitions written for these tests.
/// </summary>
public sealed class ExtensionPlacementTests
{
    private const string Placed = "http://example.org/fhir/StructureDefinition/test-placed";
    private const string Guarded = "http://example.org/fhir/StructureDefinition/test-guarded";
    private const string Nested = "http://example.org/fhir/StructureDefinition/test-nested";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-extension-placement-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-test-placed.json"), Definition(Placed, "TestPlaced", """
            [ { "type": "element", "expression": "Patient" },
              { "type": "element", "expression": "HumanName.family" },
              { "type": "fhirpath", "expression": "Patient.address.where(use = 'home')" } ]
            """, invariants: null));
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-test-guarded.json"), Definition(Guarded, "TestGuarded", """
            [ { "type": "element", "expression": "Patient" } ]
            """, invariants: """[ "active.exists()" ]"""));
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-test-nested.json"), Definition(Nested, "TestNested", $$"""
            [ { "type": "extension", "expression": "{{Placed}}" },
              { "type": "element", "expression": "DomainResource.text" } ]
            """, invariants: null));
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static string Definition(string url, string name, string contexts, string? invariants) => $$"""
        {
          "resourceType": "StructureDefinition", "url": "{{url}}", "name": "{{name}}", "status": "draft",
          "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": false,
          "context": {{contexts}},
          {{(invariants is null ? "" : $"\"contextInvariant\": {invariants},")}}
          "type": "Extension", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
          "differential": { "element": [
            { "id": "Extension", "path": "Extension" },
            { "id": "Extension.url", "path": "Extension.url", "fixedUri": "{{url}}" },
            { "id": "Extension.value[x]", "path": "Extension.value[x]", "type": [ { "code": "string" } ] } ] }
        }
        """;

    private static Task<ValidationResult> ValidateAsync(string patientBody, ValidationOptions? options = null) =>
        SharedValidator.Value.ValidateAsync($$"""{ "resourceType": "Patient", {{patientBody}} }""", ResourceFormat.Json, options);

    private static string Extension(string url) => $$"""{ "url": "{{url}}", "valueString": "x" }""";

    [Fact]
    public async Task Extension_on_an_element_its_context_names_is_accepted()
    {
        var result = await ValidateAsync($$"""
            "extension": [ {{Extension(Placed)}} ],
            "name": [ { "family": "Doe", "_family": { "extension": [ {{Extension(Placed)}} ] } } ]
            """);

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Extension_outside_its_contexts_is_an_error_on_the_element_that_carries_it()
    {
        var result = await ValidateAsync($$"""
            "birthDate": "2000-01-01", "_birthDate": { "extension": [ {{Extension(Placed)}} ] }
            """);

        var issue = EngineTestSupport.Single(result, "extension-context");
        Assert.Equal(OperationOutcome.IssueSeverity.Error, issue.Severity);
        Assert.Equal("Patient.birthDate", issue.Location.Expression);
    }

    [Fact]
    public async Task FhirPath_context_selects_the_elements_where_the_extension_may_sit()
    {
        var home = await ValidateAsync($$"""
            "address": [ { "use": "home", "city": "Bern", "extension": [ {{Extension(Placed)}} ] } ]
            """);
        var work = await ValidateAsync($$"""
            "address": [ { "use": "work", "city": "Bern", "extension": [ {{Extension(Placed)}} ] } ]
            """);

        EngineTestSupport.AssertNoErrors(home);
        Assert.Equal("Patient.address[0]", EngineTestSupport.Single(work, "extension-context").Location.Expression);
    }

    [Fact]
    public async Task Context_on_a_base_resource_element_is_met_by_that_element_of_any_resource()
    {
        var onText = await ValidateAsync($$"""
            "text": { "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>", "extension": [ {{Extension(Nested)}} ] }
            """);
        var onPatient = await ValidateAsync($$"""
            "extension": [ {{Extension(Nested)}} ]
            """);

        EngineTestSupport.AssertNoErrors(onText);
        Assert.Equal("Patient", EngineTestSupport.Single(onPatient, "extension-context").Location.Expression);
    }

    [Fact]
    public async Task Extension_context_is_met_on_the_value_of_that_extension()
    {
        var result = await ValidateAsync($$"""
            "extension": [ { "url": "{{Placed}}", "valueString": "x", "_valueString": { "extension": [ {{Extension(Nested)}} ] } } ]
            """);

        EngineTestSupport.AssertNoErrors(result);
    }

    [Fact]
    public async Task Context_invariant_is_checked_on_the_carrier()
    {
        var without = await ValidateAsync($$"""
            "extension": [ {{Extension(Guarded)}} ]
            """);
        var with = await ValidateAsync($$"""
            "active": true, "extension": [ {{Extension(Guarded)}} ]
            """);

        Assert.Equal("Patient", EngineTestSupport.Single(without, "extension-context-invariant").Location.Expression);
        EngineTestSupport.AssertNoErrors(with);
    }

    [Fact]
    public async Task Relative_extension_url_outside_a_complex_extension_is_an_error()
    {
        var result = await ValidateAsync("""
            "extension": [ { "url": "something", "valueString": "x" } ]
            """);

        Assert.Equal("Patient.extension[0]", EngineTestSupport.Single(result, "extension-url").Location.Expression);
    }

    [Fact]
    public async Task Extension_on_resource_id_is_an_error()
    {
        var result = await ValidateAsync("""
            "id": "p1", "_id": { "extension": [ { "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown" } ] }
            """);

        Assert.Equal("Patient.id", EngineTestSupport.Single(result, "resource-id-extension").Location.Expression);
    }

    [Fact]
    public async Task Reference_options_reject_unknown_extensions_outside_allowed_domains()
    {
        var body = """
            "extension": [ { "url": "http://hospital.test/fhir/StructureDefinition/nowhere", "valueString": "x" },
                           { "url": "http://hl7.org/fhir/StructureDefinition/not-in-core", "valueString": "x" } ]
            """;

        var reference = await ValidateAsync(body, ValidationOptions.Reference);
        var allowed = await ValidateAsync(body, ValidationOptions.Reference with { AllowedExtensionDomains = ["http://hospital.test/fhir/", ValidationOptions.HL7ExtensionDomain] });

        var rejected = Assert.Single(reference.Issues, i => i.Rule == "unknown-extension" && i.Severity == OperationOutcome.IssueSeverity.Error);
        Assert.Equal("Patient.extension[0]", rejected.Location.Expression);
        Assert.Contains(reference.Issues, i => i.Rule == "unknown-extension" && i.Location.Expression == "Patient.extension[1]" && i.Severity == OperationOutcome.IssueSeverity.Warning);
        EngineTestSupport.AssertNoErrors(allowed);
    }
}
