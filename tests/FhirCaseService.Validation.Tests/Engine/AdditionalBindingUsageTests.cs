using FhirCaseService.Conformance;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// An additional binding limited by usage contexts applies where the resource meets them all, as the reference
/// validator decides: a usage naming this profile and a path of the resource is met by a matching code there.
/// </summary>
public sealed class AdditionalBindingUsageTests
{
    private const string Profile = "http://example.org/fhir/StructureDefinition/usage-bound-observation";
    private const string Category = "http://terminology.hl7.org/CodeSystem/observation-category";

    private static readonly Lazy<FhirValidator> SharedValidator = new(() =>
    {
        var directory = ScratchPackageDirectory.Create("fhircase-additional-binding-usage-");
        ShadesTerminology.WriteCodeSystem(directory);
        ShadesTerminology.WriteValueSet(directory, "red", "red");
        static string Usage(string system, string path, string categoryCode) => $$"""
            { "url": "usage", "valueUsageContext": { "code": { "system": "{{system}}", "code": "{{path}}" },
              "valueCodeableConcept": { "coding": [ { "system": "{{Category}}", "code": "{{categoryCode}}" } ] } } }
            """;
        AdditionallyBoundObservation.Write(directory, Profile, "UsageBoundObservation",
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.CrossVersion, "required", "http://example.org/fhir/ValueSet/red",
                ",\n" + Usage(Profile, "Observation.category", "laboratory")),
            AdditionallyBoundObservation.Binding(AdditionallyBoundObservation.CrossVersion, "required", "http://example.org/fhir/ValueSet/red",
                ",\n" + Usage("http://example.org/fhir/StructureDefinition/another-profile", "Observation.category", "imaging")));
        return new FhirValidator(ConformanceContext.CreateBuilder().AddPackage(directory.FullName).Build());
    });

    private static Task<ValidationResult> ValidateAsync(string categoryCode, string code) =>
        SharedValidator.Value.ValidateAsync($$"""
            {
              "resourceType": "Observation", "meta": { "profile": [ "{{Profile}}" ] }, "status": "final",
              "category": [ { "coding": [ { "system": "{{Category}}", "code": "{{categoryCode}}" } ] } ],
              "code": { "coding": [ { "system": "http://example.org/fhir/CodeSystem/shades", "code": "{{code}}" } ] }
            }
            """, ResourceFormat.Json);

    [Fact]
    public async Task A_binding_whose_usage_the_resource_meets_applies()
    {
        var outside = await ValidateAsync("laboratory", "pink");
        var inside = await ValidateAsync("laboratory", "red");

        Assert.Equal("Observation.code", EngineTestSupport.Single(outside, "binding-required").Location.Expression);
        EngineTestSupport.AssertNoErrors(inside);
    }

    [Fact]
    public async Task A_binding_whose_usage_the_resource_does_not_meet_or_that_names_another_profile_does_not_apply()
    {
        var otherCategory = await ValidateAsync("vital-signs", "pink");
        var otherProfilesUsage = await ValidateAsync("imaging", "pink");

        EngineTestSupport.AssertNoErrors(otherCategory);
        EngineTestSupport.AssertNoErrors(otherProfilesUsage);
    }
}
