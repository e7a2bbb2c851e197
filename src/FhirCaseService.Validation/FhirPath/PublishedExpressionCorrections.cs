using System.Collections.Frozen;

namespace FhirCaseService.Validation.FhirPath;

/// <summary>
/// Invariants R4 published with a wrong expression, and the expression the HL7 reference validator evaluates instead
/// (it corrects them before evaluating; later FHIR versions publish the corrected text). Recognised by the exact published
/// text, so a profile's own rule that happens to share a key is left alone.
/// </summary>
public static class PublishedExpressionCorrections
{
    private static readonly FrozenDictionary<string, string> Corrections = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // ras-2: an absent probability made "is" empty and the ordering comparison undecided, which fails.
        ["probability is decimal implies (probability as decimal) <= 100"] =
            "(probability.exists() and (probability is decimal)) implies ((probability as decimal) <= 100)",
        // que-7: FHIR's type is boolean; Boolean names the System type, which a FHIR boolean is not.
        ["operator = 'exists' implies (answer is Boolean)"] = "operator = 'exists' implies (answer is boolean)",
        // que-12: two conditions already need to say how they combine.
        ["enableWhen.count() > 2 implies enableBehavior.exists()"] = "enableWhen.count() >= 2 implies enableBehavior.exists()",
        // tim-9: 'when' repeats, and "in" over several items is an evaluation error, not a verdict.
        ["offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))"] =
            "offset.empty() or (when.exists() and when.select($this in ('C' | 'CM' | 'CD' | 'CV')).allFalse())",
        // eld-19, eld-20 and the canonical resources' name rule (sdf-0, vsd-0... 30 keys, one text): the FHIRPath
        // specification since clarified that matches() looks for the pattern anywhere in the string, so the R4 patterns
        // are anchored to say what they meant (a whole element path, a whole name).
        [@"path.matches('[^\\s\\.,:;\\\'""\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\\\'""\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*')"] =
            @"path.matches('^[^\\s\\.,:;\\\'""\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\.[^\\s\\.,:;\\\'""\\/|?!@#$%&*()\\[\\]{}]{1,64}(\\[x\\])?(\\:[^\\s\\.]+)?)*$')",
        [@"path.matches('[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x])?)*')"] = @"path.matches('^[A-Za-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*(\\[x])?)*$')",
        ["name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"] = "name.exists() implies name.matches('^[A-Z]([A-Za-z0-9_]){0,254}$')",
        // dom-6: only the root resource needs a narrative; a contained resource is shown by its container's.
        ["text.`div`.exists()"] = DomainResourceNarrative,
        // opd-3: a target profile also fits a parameter whose type is a resource type (Resource, Patient...), as in
        // every OperationDefinition whose parameter is a resource of a given profile.
        ["targetProfile.exists() implies (type = 'Reference' or type = 'canonical')"] =
            "targetProfile.exists() implies (type = 'Reference' or type = 'canonical' or type in (" + ResourceTypeCodes() + "))",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>dom-6 as the reference validator evaluates it: the narrative is asked of the root resource only.</summary>
    public const string DomainResourceNarrative = "(%rootResource != $this) or text.`div`.exists()";

    /// <summary>
    /// The codes of R4's resource-types value set (every resource type, and Resource and DomainResource) as a FHIRPath
    /// collection: the reference validator asks memberOf that value set, which our engine answers without a terminology server.
    /// </summary>
    private static string ResourceTypeCodes() =>
        string.Join(" | ", Hl7.Fhir.Model.ModelInfo.SupportedResources.Append("Resource").Append("DomainResource").Distinct().Order(StringComparer.Ordinal).Select(t => $"'{t}'"));

    /// <summary>The expression to evaluate for a constraint published as <paramref name="expression"/>.</summary>
    public static string For(string expression) => Corrections.GetValueOrDefault(expression, expression);
}
