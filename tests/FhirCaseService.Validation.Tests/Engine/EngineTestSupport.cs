using FhirCaseService.Conformance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>One validator over core R4 + our profiles for all engine tests: profiles compile once per test run.</summary>
internal static class EngineTestSupport
{
    private static readonly Lazy<FhirValidator> SharedValidator = new(() => new FhirValidator(ConformanceContext.CreateDefault()));

    public static FhirValidator Validator => SharedValidator.Value;

    public const string Profiles = "https://fhircase.example.org/fhir/StructureDefinition/";

    public static Task<ValidationResult> ValidateJsonAsync(string json, ValidationOptions? options = null) =>
        Validator.ValidateAsync(json, ResourceFormat.Json, options);

    public static Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null) =>
        Validator.ValidateAsync(resource, options);

    public static ValidationIssue Single(ValidationResult result, string rule) =>
        Assert.Single(result.Issues, i => i.Rule == rule);

    public static string Describe(ValidationResult result) =>
        string.Join("\n", result.Issues.Select(i => $"{i.Severity} [{i.Rule}] {i.Location.Expression} @{i.Location.Line}:{i.Location.Column} {i.Message}"));

    public static void AssertNoErrors(ValidationResult result) => Assert.False(result.HasErrors, Describe(result));

    /// <summary>A minimal valid core Observation, as JSON, with one line per element so positions are easy to state.</summary>
    public static string Observation(string extraLines = "") => $$"""
        {
          "resourceType": "Observation",
          "status": "final",
          "code": { "coding": [ { "system": "http://loinc.org", "code": "8277-6" } ] },{{extraLines}}
          "subject": { "reference": "Patient/p1" }
        }
        """;

    public static string ExampleFile(string relativePath) => File.ReadAllText(FhirCaseService.TestSupport.RepositoryRoot.Combine(relativePath));
}
