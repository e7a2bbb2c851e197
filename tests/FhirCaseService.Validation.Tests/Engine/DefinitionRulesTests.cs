using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>A StructureDefinition judged against its base as the reference validator does: derivation, kind, and the base's fixed values kept.</summary>
public sealed class DefinitionRulesTests
{
    private const string BaseExtension = "http://example.org/fhir/StructureDefinition/base-extension";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-definition-rules-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-base-extension.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{BaseExtension}}", "name": "BaseExtension", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": false, "type": "Extension",
              "context": [ { "type": "element", "expression": "Patient" } ],
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
              "differential": { "element": [ { "id": "Extension", "path": "Extension" },
                { "id": "Extension.extension", "path": "Extension.extension", "max": "0" },
                { "id": "Extension.url", "path": "Extension.url", "fixedUri": "{{BaseExtension}}" },
                { "id": "Extension.value[x]", "path": "Extension.value[x]", "type": [ { "code": "string" } ] } ] }
            }
            """);
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Task<ValidationResult> DerivedExtensionAsync(string urlElement, string derivation = "\"derivation\": \"constraint\",", string kind = "complex-type") =>
        SharedValidator.Value.ValidateAsync($$"""
            {
              "resourceType": "StructureDefinition", "url": "http://example.org/fhir/StructureDefinition/derived-extension",
              "name": "DerivedExtension", "status": "draft", "fhirVersion": "4.0.1", "kind": "{{kind}}", "abstract": false,
              "type": "Extension", "context": [ { "type": "element", "expression": "Patient" } ],
              "baseDefinition": "{{BaseExtension}}", {{derivation}}
              "differential": { "element": [ { "id": "Extension", "path": "Extension" }, {{urlElement}} ] }
            }
            """, ResourceFormat.Json);

    [Fact]
    public async Task A_derived_definition_cannot_change_a_value_its_base_fixes()
    {
        var renamed = await DerivedExtensionAsync("""{ "id": "Extension.url", "path": "Extension.url", "fixedUri": "http://example.org/fhir/StructureDefinition/derived-extension" }""");
        var kept = await DerivedExtensionAsync($$"""{ "id": "Extension.url", "path": "Extension.url", "fixedUri": "{{BaseExtension}}" }""");
        var untouched = await DerivedExtensionAsync("""{ "id": "Extension.value[x]", "path": "Extension.value[x]", "short": "a string" }""");

        Assert.Equal("StructureDefinition.differential.element[1].fixed.ofType(uri)", EngineTestSupport.Single(renamed, "sd-fixed-kept").Location.Expression);
        EngineTestSupport.AssertNoErrors(kept);
        EngineTestSupport.AssertNoErrors(untouched);
    }

    [Fact]
    public async Task A_fixed_value_of_another_type_than_the_base_fixes_is_an_error()
    {
        var retyped = await DerivedExtensionAsync($$"""{ "id": "Extension.url", "path": "Extension.url", "fixedString": "{{BaseExtension}}" }""");

        Assert.Equal("StructureDefinition.differential.element[1].fixed.ofType(string)", EngineTestSupport.Single(retyped, "sd-fixed-kept").Location.Expression);
    }

    [Fact]
    public async Task A_derived_definition_states_its_derivation_and_keeps_its_base_kind()
    {
        var kept = $$"""{ "id": "Extension.url", "path": "Extension.url", "fixedUri": "{{BaseExtension}}" }""";

        var noDerivation = await DerivedExtensionAsync(kept, derivation: "");
        var otherKind = await DerivedExtensionAsync(kept, kind: "resource");

        Assert.Equal("StructureDefinition", EngineTestSupport.Single(noDerivation, "sd-derivation").Location.Expression);
        Assert.Equal("StructureDefinition", EngineTestSupport.Single(otherKind, "sd-kind").Location.Expression);
    }
}
