using Hl7.Fhir.Model;

namespace FhirCaseService.Validation;

/// <summary>
/// Where an issue sits: a FHIRPath expression into the instance and, when the input was text, its line and column
/// (1-based). <paramref name="Entry"/> is the index of the Bundle entry the issue is about (null: the Bundle itself, or
/// not a Bundle), carried as data so callers never recover it from the expression.
/// </summary>
public sealed record IssueLocation(string Expression, int? Line = null, int? Column = null, int? Entry = null);

/// <summary>One finding of the validator. Immutable; the engine produces these and only the boundary turns them into an OperationOutcome.</summary>
/// <param name="Rule">A short stable identifier of the rule that produced the issue (e.g. "cardinality", "ele-1", "fhircase-mrd-1"), for tests and SARIF rule ids.</param>
public sealed record ValidationIssue(
    OperationOutcome.IssueSeverity Severity,
    OperationOutcome.IssueType Code,
    string Message,
    IssueLocation Location,
    string Rule);

/// <summary>The outcome of validating one input (a resource or a Bundle).</summary>
public sealed record ValidationResult(IReadOnlyList<ValidationIssue> Issues)
{
    public static readonly ValidationResult Success = new(Array.Empty<ValidationIssue>());

    public bool HasErrors => Issues.Any(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    public int ErrorCount => Issues.Count(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    /// <summary>True when the input could not be read at all (a fatal parse problem): nothing else was judged.</summary>
    public bool IsFatal => Issues.Any(i => i.Severity == OperationOutcome.IssueSeverity.Fatal);

    /// <summary>The issues about one Bundle entry (by <see cref="IssueLocation.Entry"/>).</summary>
    public IEnumerable<ValidationIssue> ForEntry(int index) => Issues.Where(i => i.Location.Entry == index);

    /// <summary>The issues about the Bundle itself rather than one of its entries.</summary>
    public IEnumerable<ValidationIssue> ForBundle => Issues.Where(i => i.Location.Entry is null);

    /// <summary>The boundary form: one OperationOutcome issue per finding, with the FHIRPath in expression and line/column in the standard extensions.</summary>
    public OperationOutcome ToOperationOutcome()
    {
        var outcome = new OperationOutcome();
        foreach (var issue in Issues)
        {
            var component = new OperationOutcome.IssueComponent
            {
                Severity = issue.Severity,
                Code = issue.Code,
                Diagnostics = issue.Message,
            };
            // An issue about the input as a whole (unreadable text) has no element to point at;
            // an empty string is not a valid FHIR string, so the expression is left out.
            if (!string.IsNullOrEmpty(issue.Location.Expression))
                component.Expression = [issue.Location.Expression];
            if (issue.Location.Line is int line)
                component.Extension.Add(new Extension(IssueLineExtension, new Integer(line)));
            if (issue.Location.Column is int column)
                component.Extension.Add(new Extension(IssueColumnExtension, new Integer(column)));
            outcome.Issue.Add(component);
        }
        if (outcome.Issue.Count == 0)
        {
            outcome.Issue.Add(new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Information,
                Code = OperationOutcome.IssueType.Informational,
                Diagnostics = "No issues found.",
            });
        }
        return outcome;
    }

    /// <summary>Extensions the HL7 tooling uses to carry source line and column on an OperationOutcome issue.</summary>
    public const string IssueLineExtension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line";
    public const string IssueColumnExtension = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col";
}
