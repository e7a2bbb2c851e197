using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

public enum BindingStrengthChecked { Required, Extensible }

/// <summary>A coded value that must be looked up in a ValueSet; checked after the walk because terminology is asynchronous.</summary>
public sealed record PendingBinding(string ValueSet, BindingStrengthChecked Strength, IReadOnlyList<(string? System, string Code)> Codes, Instance.InstancePath Path, bool HasText)
{
    /// <summary>The value is a bare code (a code element), whose code system the ValueSet must supply.</summary>
    public bool IsBareCode { get; init; }

    /// <summary>The value is a CodeableConcept with no coding at all (only text, only extensions, or nothing).</summary>
    public bool HasNoCoding { get; init; }

    /// <summary>The value is a CodeableConcept (rather than a Coding, a Quantity or a bare code).</summary>
    public bool IsConcept { get; init; }

    /// <summary>
    /// The binding's maximum ValueSet (the elementdefinition-maxValueSet extension), for extensible bindings only: a code
    /// outside the bound ValueSet is then allowed only from this one.
    /// </summary>
    public string? MaxValueSet { get; init; }

    /// <summary>The binding is an additional binding of the element, not its primary one.</summary>
    public bool IsAdditional { get; init; }
}

/// <summary>
/// A required or extensible binding (preferred and example bindings are not checked, as in the R4 rules).
/// The node's codes are collected here and judged in one pass after the walk.
/// </summary>
public sealed class BindingValidator : IElementValidator
{
    public BindingValidator(BindingStrengthChecked strength, string valueSet, string? maxValueSet = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(valueSet);
        Strength = strength;
        ValueSet = WithoutVersion(valueSet);
        MaxValueSet = string.IsNullOrEmpty(maxValueSet) ? null : WithoutVersion(maxValueSet);
    }

    public BindingStrengthChecked Strength { get; }
    public string ValueSet { get; }

    /// <summary>The extensible binding's maximum ValueSet, or null when the binding has none.</summary>
    public string? MaxValueSet { get; }

    /// <summary>The binding is one of the element's additional bindings (R5's binding.additional), not its primary one.</summary>
    public bool IsAdditional { get; init; }

    /// <summary>A canonical may carry |version; local terminology holds one version per URL.</summary>
    private static string WithoutVersion(string canonical)
    {
        var bar = canonical.IndexOf('|');
        return bar < 0 ? canonical : canonical[..bar];
    }

    public void Validate(in ElementVisit visit)
    {
        var codes = new List<(string?, string)>();
        var hasText = false;
        var isBareCode = false;
        var hasNoCoding = false;
        var isConcept = false;
        switch (visit.Node.Poco)
        {
            // Read raw: a partial parse result may hold a wrong-shaped coding or a number where a code belongs.
            case CodeableConcept concept:
                foreach (var coding in RawElements.Many<Coding>(concept, "coding"))
                    if (RawElements.Text(coding, "code") is { } code)
                        codes.Add((RawElements.Text(coding, "system"), code));
                hasText = RawElements.Text(concept, "text") is not null;
                hasNoCoding = !RawElements.Many<Coding>(concept, "coding").Any();
                isConcept = true;
                break;
            case Coding coding when RawElements.Text(coding, "code") is { } code:
                codes.Add((RawElements.Text(coding, "system"), code));
                break;
            case Quantity quantity when RawElements.Text(quantity, "code") is { } code:
                codes.Add((RawElements.Text(quantity, "system"), code));
                break;
            case PrimitiveType { JsonValue: string value }:
                codes.Add((null, value));
                isBareCode = true;
                break;
        }
        // A present CodeableConcept without any coding is judged even with neither text nor value (say, only a
        // data-absent-reason extension): the reference validator asks it for a code from the ValueSet all the same.
        if (codes.Count == 0 && !hasText && !hasNoCoding)
            return;
        visit.Run.Findings.AddBinding(new PendingBinding(ValueSet, Strength, codes, visit.Path, hasText)
        {
            IsBareCode = isBareCode,
            HasNoCoding = hasNoCoding,
            IsConcept = isConcept,
            MaxValueSet = MaxValueSet,
            IsAdditional = IsAdditional,
        });
    }
}
