using FhirCaseService.Conformance;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Rest;

/// <summary>Validation on write, bound from the "Validation" section.</summary>
public sealed class WriteValidationOptions
{
    public const string Section = "Validation";

    /// <summary>Validate every create, update and Bundle entry before it is stored (off only for measurements).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Per resource type, canonical URLs of profiles every stored instance must conform to, in addition to core R4 and
    /// the profiles the instance declares in meta.profile (e.g. "Patient": ["https://.../fhircase-patient"]).
    /// </summary>
    public Dictionary<string, List<string>> RequiredProfiles { get; set; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> RequiredFor(string resourceType) =>
        RequiredProfiles.TryGetValue(resourceType, out var profiles) ? profiles : [];
}

/// <summary>Start-up check: a required profile that is unknown, or made for another type, stops the service before it serves.</summary>
public sealed class WriteValidationOptionsCheck(ConformanceContext context) : IValidateOptions<WriteValidationOptions>
{
    public ValidateOptionsResult Validate(string? name, WriteValidationOptions options)
    {
        var failures = new List<string>();
        foreach (var (type, profiles) in options.RequiredProfiles)
        {
            if (ModelInfo.GetTypeForFhirType(type) is null || !ModelInfo.IsKnownResource(type))
                failures.Add($"Validation:RequiredProfiles names {type}, which is not an R4 resource type.");
            foreach (var canonical in profiles)
            {
                var definition = context.Resolver.Resolve(canonical) as StructureDefinition;
                if (definition is null)
                    failures.Add($"Validation:RequiredProfiles:{type} names {canonical}, which is not a known StructureDefinition.");
                else if (definition.Type != type)
                    failures.Add($"Validation:RequiredProfiles:{type} names {canonical}, a profile of {definition.Type}.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
