namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// Writes the test profiles of the additional-binding tests: an Observation profile whose code has an example binding
/// carrying the given additional-binding extensions, so each test states only the bindings it is about.
/// </summary>
internal static class AdditionallyBoundObservation
{
    /// <summary>R5's ElementDefinition.binding.additional as a cross-version extension in R4.</summary>
    public const string CrossVersion = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional";

    /// <summary>The HL7 tools' own additional-binding extension.</summary>
    public const string Tools = "http://hl7.org/fhir/tools/StructureDefinition/additional-binding";

    /// <summary>One additional-binding extension; <paramref name="usage"/> is appended to its sub-extensions as is.</summary>
    public static string Binding(string url, string purpose, string valueSet, string usage = "") => $$"""
        { "url": "{{url}}", "extension": [ { "url": "purpose", "valueCode": "{{purpose}}" },
          { "url": "valueSet", "valueCanonical": "{{valueSet}}" }{{usage}} ] }
        """;

    public static void Write(DirectoryInfo directory, string profileUrl, string name, params string[] bindings) =>
        File.WriteAllText(Path.Combine(directory.FullName, $"StructureDefinition-{name}.json"), $$"""
            {
              "resourceType": "StructureDefinition", "url": "{{profileUrl}}", "name": "{{name}}", "status": "draft",
              "fhirVersion": "4.0.1", "kind": "resource", "abstract": false, "type": "Observation",
              "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation", "derivation": "constraint",
              "differential": { "element": [
                { "id": "Observation", "path": "Observation" },
                { "id": "Observation.code", "path": "Observation.code",
                  "binding": { "strength": "example", "valueSet": "http://hl7.org/fhir/ValueSet/observation-codes",
                    "extension": [ {{string.Join(",\n", bindings)}} ] } }
              ] }
            }
            """);
}
