using FhirCaseService.Conformance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// A small test package, written to a temporary directory and loaded as "any directory of conformance resources":
/// a differential-only Observation profile exercising rules our own profiles do not (closed ordered slicing, fixed
/// status, maxLength, min/max values, mustSupport, a constraint that cannot compile, a warning constraint).
/// </summary>
internal static class TestProfiles
{
    public const string ObservationProfile = "http://example.org/fhir/StructureDefinition/test-observation";
    /// <summary>A profile whose differential lists elements out of order, which snapshot generation rejects.</summary>
    public const string DisorderedProfile = "http://example.org/fhir/StructureDefinition/test-disordered";
    public const string CodeSystem = "http://example.org/fhir/CodeSystem/test";

    private static readonly Lazy<FhirValidator> SharedValidator = new(Create);

    public static FhirValidator Validator => SharedValidator.Value;

    private static FhirValidator Create()
    {
        var directory = ScratchPackageDirectory.Create("fhircase-validation-tests-");
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-test-observation.json"), ObservationProfileJson);
        File.WriteAllText(Path.Combine(directory.FullName, "StructureDefinition-test-disordered.json"), DisorderedProfileJson);
        var context = ConformanceContext.CreateBuilder().AddBundledProfiles().AddPackage(directory.FullName).Build();
        return new FhirValidator(context);
    }

    /// <summary>An Observation that meets the test profile.</summary>
    public static Observation ConformingObservation() => new()
    {
        Meta = new Meta { Profile = [ObservationProfile] },
        Status = ObservationStatus.Final,
        Code = new CodeableConcept { Text = "short" },
        Value = new Integer(5),
        Component = [Component("a"), Component("b")],
        Note = [new Annotation { Text = "present" }],
    };

    public static Observation.ComponentComponent Component(string code) => new()
    {
        Code = new CodeableConcept(CodeSystem, code),
        Value = new FhirString("v"),
    };

    private const string ObservationProfileJson = """
        {
          "resourceType": "StructureDefinition",
          "id": "test-observation",
          "url": "http://example.org/fhir/StructureDefinition/test-observation",
          "name": "TestObservation",
          "status": "draft",
          "fhirVersion": "4.0.1",
          "kind": "resource",
          "abstract": false,
          "type": "Observation",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
          "derivation": "constraint",
          "differential": {
            "element": [
              {
                "id": "Observation",
                "path": "Observation",
                "constraint": [
                  { "key": "test-broken", "severity": "error", "human": "Cannot compile", "expression": "value.where(" },
                  { "key": "test-note", "severity": "warning", "human": "A note should be given", "expression": "note.exists()" }
                ]
              },
              { "id": "Observation.status", "path": "Observation.status", "fixedCode": "final" },
              { "id": "Observation.code.text", "path": "Observation.code.text", "maxLength": 10 },
              {
                "id": "Observation.value[x]", "path": "Observation.value[x]",
                "type": [ { "code": "integer" } ],
                "minValueInteger": 1, "maxValueInteger": 10
              },
              { "id": "Observation.interpretation", "path": "Observation.interpretation", "mustSupport": true },
              {
                "id": "Observation.component", "path": "Observation.component",
                "slicing": { "discriminator": [ { "type": "pattern", "path": "code" } ], "ordered": true, "rules": "closed" }
              },
              { "id": "Observation.component:first", "path": "Observation.component", "sliceName": "first", "min": 1, "max": "1" },
              {
                "id": "Observation.component:first.code", "path": "Observation.component.code",
                "patternCodeableConcept": { "coding": [ { "system": "http://example.org/fhir/CodeSystem/test", "code": "a" } ] }
              },
              { "id": "Observation.component:second", "path": "Observation.component", "sliceName": "second", "min": 0, "max": "1" },
              {
                "id": "Observation.component:second.code", "path": "Observation.component.code",
                "patternCodeableConcept": { "coding": [ { "system": "http://example.org/fhir/CodeSystem/test", "code": "b" } ] }
              }
            ]
          }
        }
        """;

    private const string DisorderedProfileJson = """
        {
          "resourceType": "StructureDefinition",
          "id": "test-disordered",
          "url": "http://example.org/fhir/StructureDefinition/test-disordered",
          "name": "TestDisordered",
          "status": "draft",
          "fhirVersion": "4.0.1",
          "kind": "resource",
          "abstract": false,
          "type": "Observation",
          "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
          "derivation": "constraint",
          "differential": {
            "element": [
              { "id": "Observation.interpretation", "path": "Observation.interpretation", "min": 1 },
              { "id": "Observation.status", "path": "Observation.status", "fixedCode": "final" }
            ]
          }
        }
        """;
}
