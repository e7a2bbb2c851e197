using FhirCaseService.Conformance;
using FhirCaseService.Validation;
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
    /// Every literal reference to this server in a REST write (create, update, transaction and batch entries,
    /// <c>$import-case-series</c>) must name a stored, not deleted resource or one the same request writes; otherwise
    /// 422 (see <see cref="Rest.ReferentialIntegrity"/>). On by default, as HAPI FHIR enforces it;
    /// "Validation:ReferentialIntegrity": false stores references as sent. Bulk <c>$import</c> never checks.
    /// </summary>
    public bool ReferentialIntegrity { get; set; } = true;

    /// <summary>
    /// Per resource type, canonical URLs of profiles every stored instance must conform to, in addition to core R4 and
    /// the profiles the instance declares in meta.profile (e.g. "Patient": ["https://.../fhircase-patient"]).
    /// </summary>
    public Dictionary<string, List<string>> RequiredProfiles { get; set; } = new(StringComparer.Ordinal);

    public IReadOnlyList<string> RequiredFor(string resourceType) =>
        RequiredProfiles.TryGetValue(resourceType, out var profiles) ? profiles : [];

    /// <summary>
    /// How an extension whose definition the server does not hold is judged ("Validation:UnknownExtensions"):
    /// <see cref="UnknownExtensionPolicy.Warning"/> (the default: stored, with a warning) or
    /// <see cref="UnknownExtensionPolicy.Error"/> (refused, as the HL7 reference validator and <c>fhircase validate</c>
    /// judge it; HL7's own namespace and <see cref="AllowedExtensionDomains"/> stay warnings). An unknown modifier
    /// extension is refused under either.
    /// </summary>
    public UnknownExtensionPolicy UnknownExtensions { get; set; } = UnknownExtensionPolicy.Warning;

    /// <summary>URL prefixes of extensions accepted without a definition under <see cref="UnknownExtensionPolicy.Error"/>.</summary>
    public List<string> AllowedExtensionDomains { get; set; } = [];

    /// <summary>The engine options of every write, import line and <c>$validate</c>: required profiles and the extension policy.</summary>
    public ValidationOptions ToEngineOptions() => new()
    {
        RequiredProfiles = RequiredProfiles.ToDictionary(p => p.Key, IReadOnlyList<string> (p) => [.. p.Value], StringComparer.Ordinal),
        UnknownExtensionsAreErrors = UnknownExtensions == UnknownExtensionPolicy.Error,
        AllowedExtensionDomains = UnknownExtensions == UnknownExtensionPolicy.Error
            ? [ValidationOptions.HL7ExtensionDomain, .. AllowedExtensionDomains]
            : [.. AllowedExtensionDomains],
    };
}

/// <summary>The verdict on an extension the server has no definition for.</summary>
public enum UnknownExtensionPolicy
{
    Warning,
    Error,
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
