namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// A tiny local terminology for binding tests: the CodeSystem "shades" (red, pink, blue) and ValueSets of some of its
/// codes, written into a test package directory beside the profile under test.
/// </summary>
internal static class ShadesTerminology
{
    public const string System = "http://example.org/fhir/CodeSystem/shades";

    public static void WriteCodeSystem(DirectoryInfo directory) =>
        File.WriteAllText(Path.Combine(directory.FullName, "CodeSystem-shades.json"), $$"""
            { "resourceType": "CodeSystem", "url": "{{System}}", "status": "draft", "content": "complete",
              "concept": [ { "code": "red" }, { "code": "pink" }, { "code": "blue" } ] }
            """);

    /// <summary>A ValueSet http://example.org/fhir/ValueSet/{name} holding the given shades.</summary>
    public static void WriteValueSet(DirectoryInfo directory, string name, params string[] codes) =>
        File.WriteAllText(Path.Combine(directory.FullName, $"ValueSet-{name}.json"), $$"""
            { "resourceType": "ValueSet", "url": "http://example.org/fhir/ValueSet/{{name}}", "status": "draft",
              "compose": { "include": [ { "system": "{{System}}", "concept": [ {{string.Join(", ", codes.Select(c => $"{{ \"code\": \"{c}\" }}"))}} ] } ] } }
            """);
}
