using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// The state of one validation call: options, the source map of the text (if any) and the issues found so far.
/// Used by one thread at a time; the shared, immutable parts (schemas, compiled FHIRPath) live elsewhere.
/// </summary>
public sealed class ValidationRun
{
    private readonly List<ValidationIssue> _issues = [];
    private readonly HashSet<(string, string, string)> _seen = [];
    private readonly HashSet<string> _reportedOnce = new(StringComparer.Ordinal);

    internal ValidationRun(ValidationOptions options, SourceMap? sourceMap, ITerminologyChecker terminology)
    {
        Options = options;
        SourceMap = sourceMap;
        Terminology = terminology;
    }

    public ValidationOptions Options { get; }
    public SourceMap? SourceMap { get; }
    public ITerminologyChecker Terminology { get; }
    internal BundleIndex? Bundle { get; set; }

    /// <summary>Codes met during the walk, judged against their ValueSets afterwards (terminology is asynchronous, the walk's checks are not).</summary>
    public List<Schema.Validators.PendingBinding> PendingBindings { get; } = [];

    /// <summary>resolve() for FHIRPath: a reference to a resource in the same Bundle or contained in the same resource.</summary>
    public PocoNode? ResolveReference(string reference) => Bundle?.Resolve(reference);

    public void Report(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message, in InstancePath path, string rule)
    {
        // The same finding reached through two routes (a profile and its base, an element and its type) is reported once.
        if (!_seen.Add((path.Expression, rule, message)))
            return;
        var position = SourceMap?.Find(path.SourceKey);
        _issues.Add(new ValidationIssue(severity, code, message, new IssueLocation(path.Expression, position?.Line, position?.Column, EntryOf(path)), rule));
    }

    /// <summary>
    /// The Bundle entry a path lies in (null outside a Bundle's entries). Interim: read from the path's leading step;
    /// the walker is to carry the index on <see cref="InstancePath"/> itself.
    /// </summary>
    private int? EntryOf(in InstancePath path) => EntryOf(path.Expression);

    private int? EntryOf(string expression)
    {
        const string prefix = "Bundle.entry[";
        if (Bundle is null || !expression.StartsWith(prefix, StringComparison.Ordinal))
            return null;
        var end = expression.IndexOf(']', prefix.Length);
        return end > 0 && int.TryParse(expression.AsSpan(prefix.Length, end - prefix.Length), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : null;
    }

    /// <summary>Reports a problem of the definitions themselves (e.g. a constraint that cannot compile) once per call, not once per node.</summary>
    public void ReportOnce(string onceKey, OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message, in InstancePath path, string rule)
    {
        if (_reportedOnce.Add(onceKey))
            Report(severity, code, message, path, rule);
    }

    /// <summary>Source keys where the parser already reported a problem, with the FHIRPath the walk found for them.</summary>
    private readonly Dictionary<string, string?> _parseIssueExpressions = new(StringComparer.Ordinal);
    private readonly List<ParseIssue> _parseIssues = [];

    internal void AddParseIssues(IReadOnlyList<ParseIssue> issues)
    {
        foreach (var issue in issues)
        {
            _parseIssues.Add(issue);
            if (issue.SourceKey is { } key)
                _parseIssueExpressions[key] = null;
        }
    }

    /// <summary>True when the parser already reported this node, so the walk does not report it a second time.</summary>
    public bool HasParseIssueAt(in InstancePath path)
    {
        if (_parseIssueExpressions.Count == 0 || !_parseIssueExpressions.ContainsKey(path.SourceKey))
            return false;
        _parseIssueExpressions[path.SourceKey] = path.Expression;
        return true;
    }

    /// <summary>Lets the parser's findings borrow the walk's FHIRPath for their element (the parser's own paths lack indexes).</summary>
    public void NoteVisited(in InstancePath path)
    {
        if (_parseIssueExpressions.Count > 0 && _parseIssueExpressions.ContainsKey(path.SourceKey))
            _parseIssueExpressions[path.SourceKey] = path.Expression;
    }

    /// <summary>A silent run for trial matching (slices by profile, reference targets): same options and terminology, own issues.</summary>
    internal ValidationRun CreateProbe() => new(Options, null, Terminology) { Bundle = Bundle };

    internal ValidationResult ToResult()
    {
        if (_parseIssues.Count == 0)
            return new ValidationResult(_issues.ToArray());
        var parsed = _parseIssues.Select(p => p.SourceKey is { } key && _parseIssueExpressions.GetValueOrDefault(key) is { } expression
            ? p.Issue with { Location = p.Issue.Location with { Expression = expression } }
            : p.Issue).Select(i => i with { Location = i.Location with { Entry = EntryOf(i.Location.Expression) } });
        return new ValidationResult(parsed.Concat(_issues).ToArray());
    }
}
