using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema.Validators;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// The state of one validation call: options, the source map of the text (if any) and the results of the walk so far
/// (<see cref="Findings"/>; no hidden filter: where two schemas meet one node the walker combines their results).
/// Used by one thread at a time; the shared, immutable parts (schemas, compiled FHIRPath) live elsewhere.
/// </summary>
public sealed class ValidationRun
{
    private readonly HashSet<string> _reportedOnce = new(StringComparer.Ordinal);

    internal ValidationRun(ValidationOptions options, SourceMap? sourceMap, ITerminologyChecker terminology, ExternalTargets? externalTargets = null)
    {
        ExternalTargets = externalTargets ?? new ExternalTargets();
        Options = options;
        SourceMap = sourceMap;
        Terminology = terminology;
    }

    public ValidationOptions Options { get; }
    public SourceMap? SourceMap { get; }
    public ITerminologyChecker Terminology { get; }
    internal BundleIndex? Bundle { get; set; }

    /// <summary>The results of the walk so far (see <see cref="FindingBuilder"/>).</summary>
    public FindingBuilder Findings { get; } = new();

    /// <summary>resolve() for FHIRPath: a reference to a resource in the same Bundle or contained in the same resource.</summary>
    public PocoNode? ResolveReference(string reference) => Bundle?.Resolve(reference);

    /// <summary>Adds a finding to the current result; <paramref name="origin"/> names the definition its rule comes from (see <see cref="Finding"/>).</summary>
    public void Report(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message, in InstancePath path, string rule, string? origin = null) =>
        Add(severity, code, message, path, rule, origin, null);

    /// <summary>Reports a problem of the definitions themselves (e.g. a constraint that cannot compile) once per call, not once per node.</summary>
    public void ReportOnce(string onceKey, OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message, in InstancePath path, string rule)
    {
        // Once-per-call findings are warnings about the definitions: they cannot change a trial's verdict, and a trial
        // must not use up the call's one report; it keeps the finding unclaimed in case its result is reused.
        if (_trialDepth > 0)
            Add(severity, code, message, path, rule, null, onceKey, unclaimedOnce: true);
        else if (_reportedOnce.Add(onceKey))
            Add(severity, code, message, path, rule, null, onceKey);
    }

    private void Add(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message, in InstancePath path, string rule, string? origin, string? onceKey,
        bool unclaimedOnce = false)
    {
        // A trial's findings mostly decide a verdict and are dropped: no positions looked up, only the key to find them by.
        var inTrial = _trialDepth > 0;
        var position = inTrial ? null : SourceMap?.Find(path.SourceKey);
        var issue = new ValidationIssue(severity, code, message, new IssueLocation(path.Expression, position?.Line, position?.Column, path.Entry), rule);
        Findings.Add(new Finding(issue, origin, onceKey) { UnplacedSourceKey = inTrial && SourceMap is not null ? path.SourceKey : null, IsUnclaimedOnce = unclaimedOnce });
    }

    /// <summary>Source keys where the parser already reported a problem, with the path the walk found for them.</summary>
    private readonly Dictionary<string, InstancePath?> _parseIssuePaths = new(StringComparer.Ordinal);

    /// <summary>Source keys the parser's findings are reported on without being about them (<see cref="ParseIssue.ReferenceKey"/>), with the walk's path.</summary>
    private readonly Dictionary<string, InstancePath?> _referencePaths = new(StringComparer.Ordinal);
    private readonly List<ParseIssue> _parseIssues = [];

    internal void AddParseIssues(IReadOnlyList<ParseIssue> issues)
    {
        foreach (var issue in issues)
        {
            _parseIssues.Add(issue);
            if (issue.SourceKey is { } key)
            {
                _parseIssuePaths[key] = null;
                if (issue.ParserCode is { } code && WrongShapeCodes.Contains(code))
                    (_wrongShapeKeys ??= new(StringComparer.Ordinal)).Add(key);
            }
            if (issue.ReferenceKey is { } referenceKey)
                _referencePaths[referenceKey] = null;
        }
    }

    /// <summary>True when the parser already reported this node, so the walk does not report it a second time.</summary>
    public bool HasParseIssueAt(in InstancePath path)
    {
        // A trial judges the node as parsed, at a path of its own, and leaves the parser's findings where they are.
        if (_trialDepth > 0 || _parseIssuePaths.Count == 0 || !_parseIssuePaths.ContainsKey(path.SourceKey))
            return false;
        _parseIssuePaths[path.SourceKey] = path;
        return true;
    }

    /// <summary>
    /// Parser codes about an element's type that the walk reports itself, better worded (the element's definition and
    /// its allowed types): a type a choice does not allow (PVAL101), a resource type the model lacks (PVAL130).
    /// </summary>
    private static readonly HashSet<string> WalkedTypeCodes = new(StringComparer.Ordinal) { "PVAL101", "PVAL130" };

    /// <summary>Source keys where the walk reported the type the parser reported too: the parser's finding is dropped.</summary>
    private HashSet<string>? _walkedTypeKeys;

    /// <summary>
    /// The walk reported a type the element does not allow at this node: a parser finding about the same type at the same
    /// element (<see cref="WalkedTypeCodes"/>) is the same problem, reported once, in the walk's words.
    /// </summary>
    /// <remarks>Call after <see cref="ParserLeftTypeToWalk"/>.</remarks>
    public void NoteTypeReported(in InstancePath path)
    {
        if (_trialDepth > 0 || _parseIssuePaths.Count == 0 || !_parseIssuePaths.ContainsKey(path.SourceKey))
            return;
        (_walkedTypeKeys ??= new(StringComparer.Ordinal)).Add(path.SourceKey);
    }

    /// <summary>
    /// Parser codes that say a value has the wrong JSON shape for its element (a primitive where an object or a resource
    /// belongs, JSON131): the walk sees such a value as an unnamed type the element does not allow, the same problem.
    /// </summary>
    private static readonly HashSet<string> WrongShapeCodes = new(StringComparer.Ordinal) { "JSON131" };

    /// <summary>Source keys of parser findings in <see cref="WrongShapeCodes"/>.</summary>
    private HashSet<string>? _wrongShapeKeys;

    /// <summary>
    /// Whether the walk reports a type the element does not allow at this node: yes, unless the parser reported the
    /// value's wrong shape there (<see cref="WrongShapeCodes"/>), which says what is wrong in better words. Other parser
    /// findings at the node (an invalid literal) are other problems and leave the type to the walk.
    /// </summary>
    public bool ParserLeftTypeToWalk(in InstancePath path) =>
        !(_wrongShapeKeys is { } keys && keys.Contains(path.SourceKey) && HasParseIssueAt(path));

    /// <summary>The SDK's type name for a resource written without resourceType ("UnnamedResource_Patient.contained[0]").</summary>
    internal const string UnnamedResourcePrefix = "UnnamedResource_";

    /// <summary>The parser's "Resource has no 'resourceType' property", which it places on the document only.</summary>
    private const string NoResourceTypeCode = "JSON103";

    /// <summary>Resources without resourceType the walk met (and located) outside trials.</summary>
    private int _unnamedResources;

    /// <summary>
    /// The walk met a resource written without resourceType at this node. The parser reports each such resource once,
    /// on the document (its path is empty); the walk knows the element: when it met as many of them as the parser
    /// reported, the parser's findings are dropped and the walk's, located, stand for them.
    /// </summary>
    public void NoteUnnamedResource()
    {
        if (_trialDepth == 0)
            _unnamedResources++;
    }

    /// <summary>Lets the parser's findings borrow the walk's FHIRPath for their element (the parser's own paths lack indexes).</summary>
    public void NoteVisited(in InstancePath path)
    {
        if (_trialDepth > 0)
            return;
        if (_parseIssuePaths.Count > 0 && _parseIssuePaths.ContainsKey(path.SourceKey))
            _parseIssuePaths[path.SourceKey] = path;
        if (_referencePaths.Count > 0 && _referencePaths.ContainsKey(path.SourceKey))
            _referencePaths[path.SourceKey] = path;
    }

    private int _trialDepth;
    private bool _isWorker;

    /// <summary>Whether part of the walk may be handed to parallel workers: not from a worker, a trial, or a text whose parser findings the walk places.</summary>
    internal bool CanFork => !_isWorker && _trialDepth == 0 && _parseIssuePaths.Count == 0 && _referencePaths.Count == 0;

    /// <summary>
    /// A worker's run for part of the walk: the same options, source map, terminology, Bundle and verdict cache (all safe
    /// to share), its own result and its own copy of the once-per-call keys reported so far.
    /// </summary>
    internal ValidationRun Fork()
    {
        var worker = new ValidationRun(Options, SourceMap, Terminology) { Bundle = Bundle, TargetVerdicts = TargetVerdicts, ExternalTargets = ExternalTargets.ForWorker(), _isWorker = true };
        worker._reportedOnce.UnionWith(_reportedOnce);
        return worker;
    }

    /// <summary>Appends a worker's result (workers are joined in document order; a once-per-call finding stays the first one).</summary>
    internal void Join(ValidationRun worker) => Findings.AppendFrom(worker.Findings, _reportedOnce);

    /// <summary>Whether the walk reports elements without a definition: the parser has for text input, but a trial's verdict needs them.</summary>
    internal bool ReportsUnknownElements => SourceMap is null || _trialDepth > 0;

    /// <summary>
    /// Notes that a trial reported what the same walk outside a trial would not (an unknown element the parser has
    /// reported already): the trials open now cannot have their results reused.
    /// </summary>
    internal void NoteTrialOnlyFinding()
    {
        if (_trialDepth > 0 && SourceMap is not null)
            _trialOnlyFindings++;
    }

    private int _trialOnlyFindings;

    /// <summary>
    /// A trial's result kept for the walk that follows it: walking a node against a profile's schema, at the node's own
    /// path and with the same %resource, gives the same result in a trial as outside one, except for what a trial does
    /// differently (positions, once-per-call findings, parser findings, unknown elements), which is either recorded on
    /// the findings to be settled on reuse or prevents keeping the result. Each kept result is used at most once.
    /// </summary>
    private Dictionary<WalkKey, (Finding[] Findings, PendingBinding[] Bindings)>? _trialResults;

    /// <summary>One node walked against one compiled profile at one path, with one %resource: what a trial's result is reused for.</summary>
    internal readonly record struct WalkKey(Base Node, Schema.StructureSchema Schema, InstancePath Path, Base Resource)
    {
        public bool Equals(WalkKey other) =>
            ReferenceEquals(Node, other.Node) && ReferenceEquals(Schema, other.Schema) && ReferenceEquals(Resource, other.Resource) && Path.Equals(other.Path);

        public override int GetHashCode() =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Node), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Schema), Path);
    }

    /// <summary>
    /// Appends the kept result of a trial of <paramref name="key"/>, if there is one, as this walk's result: positions
    /// looked up and once-per-call findings claimed (or dropped as reported already) outside a trial, left as they are
    /// inside one. False when there is none and the node must be walked.
    /// </summary>
    internal bool TryReplayTrial(in WalkKey key)
    {
        // Asked at every root walk: with no trial result kept, the key (and its path's strings) is not hashed.
        if (_trialResults is not { Count: > 0 } || !_trialResults.Remove(key, out var kept))
            return false;
        var inTrial = _trialDepth > 0;
        foreach (var finding in kept.Findings)
        {
            if (inTrial)
            {
                Findings.Add(finding);
                continue;
            }
            if (finding.IsUnclaimedOnce && !_reportedOnce.Add(finding.OnceKey!))
                continue;
            var issue = finding.Issue;
            if (finding.UnplacedSourceKey is { } sourceKey && SourceMap?.Find(sourceKey) is { } position)
                issue = issue with { Location = issue.Location with { Line = position.Line, Column = position.Column } };
            Findings.Add(new Finding(issue, finding.Origin, finding.OnceKey));
        }
        foreach (var binding in kept.Bindings)
            Findings.AddBinding(binding);
        return true;
    }

    /// <summary>
    /// Judges a node for a verdict only (a slice by profile, a profile choice, a reference's target profile): the walk
    /// adds its result to this run's builder as usual and <paramref name="walk"/>'s verdict is whether that result holds
    /// an error; the result is then dropped. No second run: the same options, terminology, Bundle and verdict cache.
    /// </summary>
    /// <remarks>
    /// With <paramref name="keepFor"/> (a trial run at the node's own path) the result is kept for the walk of the same
    /// node against the same schema that usually follows (<see cref="TryReplayTrial"/>), unless the parser reported
    /// findings the walk places (a trial ignores them) or the trial reported something the walk would not.
    /// </remarks>
    internal async ValueTask<bool> TrialAsync(Func<ValueTask> walk, WalkKey? keepFor = null)
    {
        var mark = Findings.Mark;
        var trialOnly = _trialOnlyFindings;
        _trialDepth++;
        try
        {
            await walk().ConfigureAwait(false);
            if (keepFor is { } key && _trialOnlyFindings == trialOnly && _parseIssuePaths.Count == 0)
                (_trialResults ??= [])[key] = Findings.CopySince(mark);
            return !Findings.HasErrorsSince(mark);
        }
        finally
        {
            _trialDepth--;
            Findings.Truncate(mark);
        }
    }

    /// <summary>
    /// Whether a resource meets a profile, by resource object and profile, shared by the run and its parallel workers: a
    /// resource referenced from many entries (the Patient of every Observation) is checked against a profile once (or
    /// once per worker that meets it first at the same time: the verdict is the same), so reference checks cost linear
    /// time in the Bundle, not entries times target size.
    /// </summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<(Base Resource, string Profile), bool> TargetVerdicts { get; private init; } = new(ResourceAndProfileComparer.Instance);

    /// <summary>Resources fetched through <see cref="ValidationOptions.ReferenceResolver"/> in this call, shared with workers.</summary>
    internal ExternalTargets ExternalTargets { get; private init; }

    private sealed class ResourceAndProfileComparer : IEqualityComparer<(Base Resource, string Profile)>
    {
        public static readonly ResourceAndProfileComparer Instance = new();

        public bool Equals((Base Resource, string Profile) x, (Base Resource, string Profile) y) =>
            ReferenceEquals(x.Resource, y.Resource) && string.Equals(x.Profile, y.Profile, StringComparison.Ordinal);

        public int GetHashCode((Base Resource, string Profile) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Resource), StringComparer.Ordinal.GetHashCode(key.Profile));
    }

    internal ValidationResult ToResult()
    {
        var issues = Findings.Items.Select(f => f.Issue).ToArray();
        if (_parseIssues.Count == 0)
            return new ValidationResult(issues);
        var unplacedNoResourceType = _parseIssues.Count(i => i.ParserCode == NoResourceTypeCode && i.SourceKey is null);
        var walkPlacedThem = unplacedNoResourceType > 0 && _unnamedResources >= unplacedNoResourceType;
        var parsed = _parseIssues
            .Where(i => !(walkPlacedThem && i.ParserCode == NoResourceTypeCode && i.SourceKey is null))
            .Where(i => !(_walkedTypeKeys is { } walkedTypes && i.SourceKey is { } key && i.ParserCode is { } code && WalkedTypeCodes.Contains(code) && walkedTypes.Contains(key)))
            .Select(LocateParseIssue);
        return new ValidationResult(parsed.Concat(issues).ToArray());
    }

    /// <summary>
    /// A parser finding gets the walk's FHIRPath and entry where the walk reached its element; an element the walk
    /// never reached (the parser dropped it) keeps the parser's path and takes its entry from the source map. A finding
    /// about an element that never became part of the instance (an empty array) names it below its owner. Under
    /// <see cref="ValidationOptions.ReferenceValidatorParserLocations"/> a finding sits where the reference validator's
    /// parser puts it (<see cref="ParseIssue.ReferenceKey"/>), and one about the XML's shape carries the XML path.
    /// </summary>
    private ValidationIssue LocateParseIssue(ParseIssue parseIssue)
    {
        var location = parseIssue.Issue.Location;
        if (parseIssue.SourceKey is { } key)
        {
            location = _parseIssuePaths.GetValueOrDefault(key) is { } walked
                ? location with { Expression = walked.Expression, Entry = walked.Entry }
                : location with { Entry = SourceMap?.EntryOf(key) };
        }
        if (parseIssue.ReferenceKey is { } referenceKey)
        {
            if (parseIssue.ChildName is { } child)
                location = location with { Expression = $"{ExpressionAt(referenceKey, parseIssue)}.{child}", Entry = EntryAt(referenceKey) };
            else if (Options.ReferenceValidatorParserLocations)
                location = location with { Expression = ExpressionAt(referenceKey, parseIssue), Entry = EntryAt(referenceKey) };
        }
        if (Options.ReferenceValidatorParserLocations && parseIssue.FromXmlStructure
            && SourceMap?.XmlPathOf(parseIssue.ReferenceKey ?? parseIssue.SourceKey ?? "") is { } xmlPath)
        {
            location = location with { Expression = xmlPath };
        }
        if (RootType is { } root && IsRootedAtThis(location.Expression))
            location = location with { Expression = root + location.Expression["$this".Length..] };
        return parseIssue.Issue with { Location = location };
    }

    /// <summary>The type of the resource validated, which roots every FHIRPath of its findings.</summary>
    internal string? RootType { get; init; }

    /// <summary>
    /// The SDK parser names the resource it is reading "$this" until it knows its type, and keeps that root where no
    /// element of the source map or the walk gives a better path: the reference validator roots every path at the type.
    /// </summary>
    private static bool IsRootedAtThis(string? expression) =>
        expression is not null && expression.StartsWith("$this", StringComparison.Ordinal)
        && (expression.Length == "$this".Length || expression["$this".Length] is '.' or '[');

    /// <summary>
    /// The FHIRPath of the element at a source key: the walk's where it reached it, the resource type at the root, else
    /// the parser's own path cut to the element's depth.
    /// </summary>
    private string ExpressionAt(string key, ParseIssue parseIssue)
    {
        if ((_referencePaths.GetValueOrDefault(key) ?? _parseIssuePaths.GetValueOrDefault(key)) is { } walked)
            return walked.Expression;
        var depth = key.Count(c => c == '.');
        if (depth == 0)
            return key;
        var parserPath = parseIssue.Issue.Location.Expression.Split('.');
        return parserPath.Length > depth ? string.Join('.', parserPath[..(depth + 1)]) : parseIssue.Issue.Location.Expression;
    }

    private int? EntryAt(string key) =>
        (_referencePaths.GetValueOrDefault(key) ?? _parseIssuePaths.GetValueOrDefault(key))?.Entry ?? SourceMap?.EntryOf(key);
}
