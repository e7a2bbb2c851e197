using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Builders;

/// <summary>ElementDefinition.type of code Reference: its targetProfiles and aggregation compiled into a <see cref="ReferenceValidator"/>.</summary>
public static class ReferenceBuilder
{
    /// <summary>The validator for a Reference type; null for any other type.</summary>
    public static ReferenceValidator? Build(ElementDefinition.TypeRefComponent type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (type.Code != "Reference")
            return null;
        var targets = type.TargetProfile.OfType<string>().ToList();
        var aggregation = type.Aggregation.OfType<ElementDefinition.AggregationMode>().Select(Literal).ToList();
        return targets.Count == 0 && aggregation.Count == 0 ? ReferenceValidator.Unconstrained : new ReferenceValidator(targets, aggregation);
    }

    private static string Literal(ElementDefinition.AggregationMode mode) => mode switch
    {
        ElementDefinition.AggregationMode.Contained => "contained",
        ElementDefinition.AggregationMode.Bundled => "bundled",
        _ => "referenced",
    };
}
