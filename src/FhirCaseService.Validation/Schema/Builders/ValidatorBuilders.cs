using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Builders;

/// <summary>Reads one field of an ElementDefinition and yields the validators it calls for.</summary>
public interface IValidatorBuilder
{
    IEnumerable<IElementValidator> Build(ElementDefinition element);
}

/// <summary>A builder whose rules depend on the profile the element belongs to (an additional binding's usage names it).</summary>
public interface IProfileAwareValidatorBuilder : IValidatorBuilder
{
    IEnumerable<IElementValidator> Build(ElementDefinition element, string profileCanonical);
}

public sealed class FixedValueBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.Fixed is { } value ? [new FixedValueValidator(value, SliceAware.PatternRule(element))] : [];
}

public sealed class PatternBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.Pattern is { } value ? [new PatternValidator(value, SliceAware.PatternRule(element))] : [];
}

public sealed class BindingBuilder : IProfileAwareValidatorBuilder
{
    /// <summary>R4's extension on ElementDefinition.binding naming the widest ValueSet an extensible binding allows.</summary>
    public const string MaxValueSetExtension = "http://hl7.org/fhir/StructureDefinition/elementdefinition-maxValueSet";

    /// <summary>
    /// R5's additional bindings carried into R4 profiles: the cross-version extension and the HL7 tools extension name
    /// the same structure (purpose, valueSet, usage).
    /// </summary>
    public static readonly string[] AdditionalBindingExtensions =
    [
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
        "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
    ];

    public IEnumerable<IElementValidator> Build(ElementDefinition element) => Build(element, "");

    public IEnumerable<IElementValidator> Build(ElementDefinition element, string profileCanonical)
    {
        if (element.Binding is not { } binding)
            yield break;
        if (binding.ValueSet is { Length: > 0 } valueSet)
        {
            switch (binding.Strength)
            {
                case BindingStrength.Required:
                    yield return new BindingValidator(BindingStrengthChecked.Required, valueSet);
                    break;
                case BindingStrength.Extensible:
                    yield return new BindingValidator(BindingStrengthChecked.Extensible, valueSet, MaxValueSet(binding));
                    break;
                // Preferred and example bindings are guidance, not rules.
            }
        }
        foreach (var additional in AdditionalBindings(binding, profileCanonical))
            yield return additional;
    }

    /// <summary>
    /// Additional bindings whose purpose makes them a rule, as the reference validator reads them: maximum and required
    /// are required bindings, extensible an extensible one; the others (preferred, candidate, ui, ...) are guidance.
    /// One restricted by usage contexts applies where every usage is met (<see cref="BindingUsage"/>): the validator
    /// is configured with no usage contexts of its own, so only usages that name this profile and a value of the
    /// resource can be met.
    /// </summary>
    private static IEnumerable<IElementValidator> AdditionalBindings(ElementDefinition.ElementDefinitionBindingComponent binding, string profileCanonical)
    {
        foreach (var extension in binding.Extension.Where(e => AdditionalBindingExtensions.Contains(e.Url)))
        {
            var purpose = (extension.GetExtension("purpose")?.Value as PrimitiveType)?.JsonValue as string;
            var valueSet = (extension.GetExtension("valueSet")?.Value as PrimitiveType)?.JsonValue as string;
            if (string.IsNullOrEmpty(valueSet))
                continue;
            BindingStrengthChecked? strength = purpose switch
            {
                "required" or "maximum" => BindingStrengthChecked.Required,
                "extensible" => BindingStrengthChecked.Extensible,
                _ => null,
            };
            if (strength is not { } checkedStrength)
                continue;
            var validator = new BindingValidator(checkedStrength, valueSet) { IsAdditional = true };
            var usages = extension.Extension.Where(e => e.Url == "usage").Select(e => e.Value).ToList();
            if (usages.Count == 0)
            {
                yield return validator;
                continue;
            }
            var conditions = usages.Select(u => BindingUsage.From(u as UsageContext, profileCanonical)).ToList();
            // A usage that can never be met here (another system's usage context, a value that is not a CodeableConcept) leaves the binding out.
            if (conditions.TrueForAll(c => c is not null))
                yield return new UsageScopedValidator(validator, conditions!);
        }
    }

    /// <summary>The extension's canonical (valueCanonical in R4; a uri or string is read the same way).</summary>
    private static string? MaxValueSet(ElementDefinition.ElementDefinitionBindingComponent binding) =>
        binding.GetExtension(MaxValueSetExtension)?.Value switch
        {
            PrimitiveType { JsonValue: string canonical } when canonical.Length > 0 => canonical,
            _ => null,
        };
}

public sealed class InvariantBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element)
    {
        foreach (var constraint in element.Constraint)
        {
            switch (constraint.Key)
            {
                case "ele-1":
                    yield return HasValueOrChildrenValidator.Instance;
                    continue;
                case "ext-1":
                    yield return ExtensionValueOrChildrenValidator.Instance;
                    continue;
            }
            if (string.IsNullOrWhiteSpace(constraint.Expression) || string.IsNullOrEmpty(constraint.Key))
                continue;
            if (NarrativeHtmlValidator.Handles(constraint.Key))
            {
                yield return new NarrativeHtmlValidator(constraint.Key, constraint.Human ?? constraint.Key);
                continue;
            }
            // dom-3 (every contained resource is referenced) is a warning for the reference validator, which checks orphaned
            // contained resources itself and also counts links from the narrative (img src="#id").
            var severity = constraint.Severity == ConstraintSeverity.Warning || constraint.Key == "dom-3"
                ? OperationOutcome.IssueSeverity.Warning
                : OperationOutcome.IssueSeverity.Error;
            var expression = PublishedExpressionCorrections.For(constraint.Expression);
            if (constraint.Key == "dom-6" && expression == PublishedExpressionCorrections.DomainResourceNarrative)
            {
                yield return new RootNarrativeValidator(constraint.Key, severity, constraint.Human ?? constraint.Key)
                {
                    Origin = string.IsNullOrEmpty(constraint.Source) ? null : constraint.Source,
                };
                continue;
            }
            yield return new FhirPathInvariantValidator(constraint.Key, severity, constraint.Human ?? constraint.Key, FhirPathCache.Get(expression))
            {
                Origin = string.IsNullOrEmpty(constraint.Source) ? null : constraint.Source,
            };
        }
    }
}

public sealed class MaxLengthBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.MaxLength is int max and > 0 ? [new MaxLengthValidator(max)] : [];
}

public sealed class MinLengthBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.GetExtensionValue<Integer>(MinLengthValidator.ExtensionUrl)?.Value is int min and > 0 ? [new MinLengthValidator(min)] : [];
}

public sealed class NarrativeLanguageBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element)
    {
        var controls = element.Extension.Where(e => e.Url == NarrativeLanguageValidator.ExtensionUrl)
            .Select(e => (e.Value as PrimitiveType)?.ToString()).OfType<string>().Where(c => c.Length > 0).ToList();
        return controls.Count > 0 ? [new NarrativeLanguageValidator(controls)] : [];
    }
}

/// <summary>The size/data agreement of attachment.html, on the Attachment type's own root element (so on every Attachment).</summary>
public sealed class AttachmentSizeBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.Path == "Attachment" ? [AttachmentSizeValidator.Instance] : [];
}

public sealed class ValueRangeBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element)
    {
        if (element.MinValue is { } min)
            yield return new ValueRangeValidator(min, isMinimum: true);
        if (element.MaxValue is { } max)
            yield return new ValueRangeValidator(max, isMinimum: false);
    }
}

/// <summary>Names the rule of a fixed/pattern check by where it sits: inside a real slice it is "slice-pattern".</summary>
/// <summary>
/// ElementDefinition.mustHaveValue and valueAlternatives (R5, used in R4 profiles through the cross-version extensions):
/// a primitive that must carry a value, and the extensions that may stand in for an absent one.
/// </summary>
public sealed class ValuePresenceBuilder : IValidatorBuilder
{
    private const string CrossVersion = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.";

    public IEnumerable<IElementValidator> Build(ElementDefinition element)
    {
        var mustHaveValue = element.GetExtensionValue<FhirBoolean>(CrossVersion + "mustHaveValue")?.Value == true;
        var alternatives = element.GetExtensions(CrossVersion + "valueAlternatives")
            .Select(e => (e.Value as PrimitiveType)?.ToString()).OfType<string>().Where(url => url.Length > 0).ToArray();
        return mustHaveValue || alternatives.Length > 0 ? [new ValuePresenceValidator(element.Path ?? element.ElementId ?? "element", mustHaveValue, alternatives)] : [];
    }
}

/// <summary>
/// min/max of an ElementDefinition as a group rule over its repetitions; a slice is labelled by its entry and name.
/// Built per element (not through <see cref="IValidatorBuilder"/>): it judges the siblings, not a node.
/// </summary>
public static class CardinalityBuilder
{
    public static CardinalityValidator Build(ElementDefinition element, int min, int? max, string source, bool isSlice)
    {
        var path = element.Path ?? element.ElementId ?? "element";
        var label = isSlice ? $"Slice {path}:{element.SliceName}" : path;
        return new CardinalityValidator(min, max, label, source, isSlice);
    }
}

internal static class SliceAware
{
    public static string PatternRule(ElementDefinition element)
    {
        var id = element.ElementId ?? "";
        foreach (var step in id.Split('.'))
        {
            var colon = step.IndexOf(':');
            // value[x]:valueQuantity is a type choice written as a slice, not a slice of repetitions.
            if (colon > 0 && !step[..colon].EndsWith("[x]", StringComparison.Ordinal) && !IsDiscriminatorOwnElement(id, step))
                return "slice-pattern";
        }
        return "pattern";
    }

    /// <summary>The slice element itself (Observation.category:laboratory) holds the pattern that selects it: a plain pattern.</summary>
    private static bool IsDiscriminatorOwnElement(string id, string step) => id.EndsWith(step, StringComparison.Ordinal);
}
