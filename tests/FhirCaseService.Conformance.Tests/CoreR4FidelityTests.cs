using FhirCaseService.Conformance.CoreDefinitions;
using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Tests;

/// <summary>
/// The core definitions are the official R4 4.0.1 publication (Hl7.Fhir.Specification.Data.R4, docs/core-definitions.md):
/// these tests keep a regenerated archive R4 and nothing else — no later release's artifacts, every element known to the
/// SDK's R4 model, every required binding resolvable.
/// </summary>
public sealed class CoreR4FidelityTests
{
    private static readonly CoreDefinitionsSource Core = CoreDefinitionsSource.Shared;

    [Fact]
    public void Meta_has_exactly_the_R4_elements()
    {
        var meta = (StructureDefinition)Core.Resolve("http://hl7.org/fhir/StructureDefinition/Meta")!;

        Assert.Equal(
            ["Meta", "Meta.id", "Meta.extension", "Meta.versionId", "Meta.lastUpdated", "Meta.source", "Meta.profile", "Meta.security", "Meta.tag"],
            meta.Snapshot!.Element.Select(e => e.Path));
    }

    [Fact]
    public void DetectedIssue_status_is_bound_to_observation_status_as_in_R4()
    {
        var detectedIssue = (StructureDefinition)Core.Resolve("http://hl7.org/fhir/StructureDefinition/DetectedIssue")!;

        var status = detectedIssue.Snapshot!.Element.Single(e => e.Path == "DetectedIssue.status");

        Assert.Equal("http://hl7.org/fhir/ValueSet/observation-status|4.0.1", status.Binding!.ValueSet);
        Assert.NotNull(Core.Resolve(status.Binding.ValueSet!));
    }

    [Theory]
    [InlineData("http://hl7.org/fhir/StructureDefinition/SubscriptionStatus")]
    [InlineData("http://hl7.org/fhir/ValueSet/detectedissue-status")]
    [InlineData("http://hl7.org/fhir/SearchParameter/DeviceDefinition-classification")]
    [InlineData("http://hl7.org/fhir/SearchParameter/DetectedIssue-status")]
    [InlineData("http://hl7.org/fhir/SearchParameter/ServiceRequest-order-detail")]
    public void Artifacts_that_are_not_R4_are_absent(string canonical)
    {
        Assert.Null(Core.Resolve(canonical));
    }

    [Fact]
    public void EvidenceVariable_has_the_R4_shape()
    {
        var evidenceVariable = (StructureDefinition)Core.Resolve("http://hl7.org/fhir/StructureDefinition/EvidenceVariable")!;

        var paths = evidenceVariable.Snapshot!.Element.Select(e => e.Path).ToList();

        Assert.Contains("EvidenceVariable.characteristic.definition[x]", paths);
        Assert.Contains("EvidenceVariable.characteristic.usageContext", paths);
    }

    [Fact]
    public void Every_resource_definition_element_exists_in_the_sdk_R4_model()
    {
        var inspector = ModelInfo.ModelInspector;
        var unknown = new List<string>();

        foreach (var info in Core.StructureDefinitions.Values.Where(i => i is { Derivation: "specialization", Kind: "resource" }))
        {
            var mapping = inspector.FindClassMapping(info.Type)
                ?? throw new Xunit.Sdk.XunitException($"the SDK R4 model has no {info.Type}");
            var definition = (StructureDefinition)Core.Resolve(info.Url)!;
            foreach (var path in definition.Snapshot!.Element.Select(e => e.Path ?? "").Where(p => p.Contains('.')))
            {
                Hl7.Fhir.Introspection.ClassMapping? current = mapping;
                foreach (var segment in path.Split('.').Skip(1))
                {
                    if (current is null)
                    {
                        break;
                    }
                    var property = current.FindMappedElementByName(segment.Replace("[x]", "", StringComparison.Ordinal));
                    if (property is null)
                    {
                        unknown.Add(path);
                        break;
                    }
                    current = property.PropertyTypeMapping as Hl7.Fhir.Introspection.ClassMapping;
                }
            }
        }

        Assert.Empty(unknown);
    }

    [Fact]
    public void Every_required_binding_of_a_core_definition_resolves_to_a_core_value_set()
    {
        // External value sets R4 binds to but does not define (DICOM tables and similar).
        string[] notInR4 = ["http://dicom.nema.org/", "http://www.rsna.org/", "http://loinc.org/vs/"];
        var unresolved = Core.StructureDefinitions.Keys
            .Select(url => (StructureDefinition)Core.Resolve(url)!)
            .SelectMany(sd => sd.Snapshot!.Element)
            .Where(e => e.Binding is { Strength: BindingStrength.Required, ValueSet: not null })
            .Select(e => e.Binding!.ValueSet!)
            .Distinct()
            .Where(vs => Core.Resolve(vs) is null && !notInR4.Any(vs.StartsWith))
            .ToList();

        Assert.Empty(unresolved);
    }
}
