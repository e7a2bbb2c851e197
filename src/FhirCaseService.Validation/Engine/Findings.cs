using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// One finding of the walk: the issue, the definition its rule comes from (<paramref name="Origin"/>: the canonical of the
/// StructureDefinition that declares a constraint, <c>ElementDefinition.constraint.source</c>; null for findings about the
/// instance itself, such as an unknown element or a malformed primitive) and, for a finding reported once per call, its key.
/// </summary>
public readonly record struct Finding(ValidationIssue Issue, string? Origin, string? OnceKey = null)
{
    public bool IsError => Issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal;

    /// <summary>
    /// Set on a finding made in a trial, which looks up no positions: the source key its position is found by if the
    /// trial's result is later reused as the node's result (<see cref="ValidationRun.TryReplayTrial"/>).
    /// </summary>
    internal string? UnplacedSourceKey { get; init; }

    /// <summary>
    /// A once-per-call finding made in a trial: it has not used up the call's one report (<see cref="OnceKey"/>) and
    /// decides no verdict; it is claimed, or dropped as already reported, only if the trial's result is reused.
    /// </summary>
    internal bool IsUnclaimedOnce { get; init; }
}

/// <summary>Where a result starts in a <see cref="FindingBuilder"/>: the findings and the pending bindings added after it belong to it.</summary>
public readonly record struct FindingMark(int Findings, int Bindings);

/// <summary>
/// The results of a walk, as values: each node's result is the run of findings (and codes awaiting their terminology
/// verdict) appended after the mark taken when the node was entered, children's results following their parent's in
/// document order. Where several schemas judge one node (the element and its type, two profiles of one resource, a
/// profile and the core pass) their results are combined by <see cref="Union"/>, a set union keyed by origin, location,
/// rule and message: a rule the schemas inherit from one base definition (dom-6 of DomainResource, ele-1 of Element, an
/// unknown extension seen by both) is one finding, kept where it first appears. Nothing else is filtered. Used by one
/// thread at a time; parallel workers each fill their own and are appended in order (<see cref="AppendFrom"/>).
/// </summary>
public sealed class FindingBuilder
{
    private readonly List<Finding> _findings = [];
    private readonly List<PendingBinding> _bindings = [];

    public FindingMark Mark => new(_findings.Count, _bindings.Count);

    public IReadOnlyList<Finding> Items => _findings;

    /// <summary>Codes met during the walk, judged against their ValueSets afterwards (terminology is asynchronous, the walk's checks are not).</summary>
    public IReadOnlyList<PendingBinding> Bindings => _bindings;

    public void Add(in Finding finding) => _findings.Add(finding);

    public void AddBinding(PendingBinding binding) => _bindings.Add(binding);

    /// <summary>
    /// Combines the result that starts at <paramref name="first"/> and ends at <paramref name="second"/> with the one after
    /// <paramref name="second"/> (another schema's verdict on the same node) as one set: a finding or pending binding of
    /// the second equal to one already present (same key) is dropped, the order otherwise kept. Costs nothing when either is empty.
    /// </summary>
    public void Union(FindingMark first, FindingMark second)
    {
        UnionTail(_findings, first.Findings, second.Findings, FindingKeyComparer.Instance);
        UnionTail(_bindings, first.Bindings, second.Bindings, BindingKeyComparer.Instance);
    }

    /// <summary>Whether the result since <paramref name="mark"/> holds an error.</summary>
    public bool HasErrorsSince(FindingMark mark)
    {
        for (var i = mark.Findings; i < _findings.Count; i++)
        {
            if (_findings[i].IsError && !_findings[i].IsUnclaimedOnce)
                return true;
        }
        return false;
    }

    /// <summary>The result after <paramref name="mark"/>, copied (a trial's result kept for reuse).</summary>
    internal (Finding[] Findings, PendingBinding[] Bindings) CopySince(FindingMark mark) =>
        (_findings.GetRange(mark.Findings, _findings.Count - mark.Findings).ToArray(), _bindings.GetRange(mark.Bindings, _bindings.Count - mark.Bindings).ToArray());

    /// <summary>Drops the result after <paramref name="mark"/> (a verdict that was only needed for its errors).</summary>
    public void Truncate(FindingMark mark)
    {
        _findings.RemoveRange(mark.Findings, _findings.Count - mark.Findings);
        _bindings.RemoveRange(mark.Bindings, _bindings.Count - mark.Bindings);
    }

    /// <summary>
    /// Appends a worker's result; a once-per-call finding whose key <paramref name="reportedOnce"/> already holds is
    /// dropped (the earlier one, in document order, stays), otherwise its key is added.
    /// </summary>
    public void AppendFrom(FindingBuilder other, HashSet<string> reportedOnce)
    {
        foreach (var finding in other._findings)
        {
            if (finding.OnceKey is { } key && !reportedOnce.Add(key))
                continue;
            _findings.Add(finding);
        }
        _bindings.AddRange(other._bindings);
    }

    private static void UnionTail<T>(List<T> list, int first, int second, IEqualityComparer<T> comparer)
    {
        if (second == first || second == list.Count)
            return;
        var present = new HashSet<T>(comparer);
        for (var i = first; i < second; i++)
            present.Add(list[i]);
        var write = second;
        for (var read = second; read < list.Count; read++)
        {
            if (present.Add(list[read]))
                list[write++] = list[read];
        }
        list.RemoveRange(write, list.Count - write);
    }

    private sealed class FindingKeyComparer : IEqualityComparer<Finding>
    {
        public static readonly FindingKeyComparer Instance = new();

        public bool Equals(Finding x, Finding y) =>
            string.Equals(x.Origin, y.Origin, StringComparison.Ordinal)
            && string.Equals(x.Issue.Location.Expression, y.Issue.Location.Expression, StringComparison.Ordinal)
            && string.Equals(x.Issue.Rule, y.Issue.Rule, StringComparison.Ordinal)
            && string.Equals(x.Issue.Message, y.Issue.Message, StringComparison.Ordinal);

        public int GetHashCode(Finding f) =>
            HashCode.Combine(f.Origin is null ? 0 : StringComparer.Ordinal.GetHashCode(f.Origin), StringComparer.Ordinal.GetHashCode(f.Issue.Location.Expression),
                StringComparer.Ordinal.GetHashCode(f.Issue.Rule), StringComparer.Ordinal.GetHashCode(f.Issue.Message));
    }

    /// <summary>Two pending bindings of one node for the same ValueSet and strength are one question to terminology.</summary>
    private sealed class BindingKeyComparer : IEqualityComparer<PendingBinding>
    {
        public static readonly BindingKeyComparer Instance = new();

        public bool Equals(PendingBinding? x, PendingBinding? y) =>
            x is not null && y is not null
            && string.Equals(x.Path.Expression, y.Path.Expression, StringComparison.Ordinal)
            && string.Equals(x.ValueSet, y.ValueSet, StringComparison.Ordinal)
            && x.Strength == y.Strength
            && x.IsAdditional == y.IsAdditional
            && string.Equals(x.MaxValueSet, y.MaxValueSet, StringComparison.Ordinal);

        public int GetHashCode(PendingBinding b) =>
            HashCode.Combine(StringComparer.Ordinal.GetHashCode(b.Path.Expression), StringComparer.Ordinal.GetHashCode(b.ValueSet), b.Strength, b.IsAdditional);
    }
}
