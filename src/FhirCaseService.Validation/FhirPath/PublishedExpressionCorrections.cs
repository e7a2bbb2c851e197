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
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The expression to evaluate for a constraint published as <paramref name="expression"/>.</summary>
    public static string For(string expression) => Corrections.GetValueOrDefault(expression, expression);
}
