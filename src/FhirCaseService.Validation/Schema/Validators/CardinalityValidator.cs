using System.Globalization;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// Min/max of an element or of a slice, compiled once per ElementDefinition. A finding is reported on the node that
/// holds the repetitions (Patient for Patient.identifier, Bundle for a slice of Bundle.entry), as the reference
/// validator does: the parent is where the count is wrong, and a missing child has no location of its own. The message
/// names the element (or slice) and the definition the rule comes from, so a node checked against two profiles that
/// both require it gets one finding per profile.
/// </summary>
public sealed class CardinalityValidator : IGroupValidator
{
    private readonly string _minRule;
    private readonly string _maxRule;

    /// <param name="label">The element's path, or "Slice Path:name".</param>
    /// <param name="source">Canonical URL of the StructureDefinition the rule comes from.</param>
    public CardinalityValidator(int min, int? max, string label, string source, bool isSlice)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        if (max < min)
            throw new ArgumentException($"{label} has an impossible cardinality {min}..{max}.", nameof(max));
        ArgumentException.ThrowIfNullOrEmpty(label);
        ArgumentNullException.ThrowIfNull(source);
        Min = min;
        Max = max;
        Label = label;
        Source = source;
        _minRule = isSlice ? "slice-cardinality" : "cardinality-min";
        _maxRule = isSlice ? "slice-cardinality" : "cardinality-max";
    }

    public int Min { get; }
    /// <summary>Null means unbounded (*).</summary>
    public int? Max { get; }
    public string Label { get; }
    public string Source { get; }

    /// <summary>True when the rule can never fail (0..*): the walker need not ask.</summary>
    public bool IsUnconstrained => Min == 0 && Max is null;

    public string Text => $"{Min}..{(Max is int m ? m.ToString(CultureInfo.InvariantCulture) : "*")}";

    public void Validate(in SiblingGroup group)
    {
        // Called for every constrained element of every node: the message (and its "from" part) is made only for a finding.
        var count = group.Count;
        if (count < Min)
        {
            var from = From;
            group.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Required,
                count == 0
                    ? $"{Label} is required ({Text}) but missing{from}."
                    : $"{Label} needs at least {Min} ({Text}); found {count}{from}.",
                group.ParentPath, _minRule);
        }
        else if (Max is int max && count > max)
        {
            var from = From;
            group.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                max == 0
                    ? $"{Label} is not allowed here (0..0) but is present{from}."
                    : $"{Label} allows at most {max} ({Text}); found {count}{from}.",
                group.ParentPath, _maxRule);
        }
    }

    private string From => Source.Length == 0 ? "" : $" (from {Source})";
}
