using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Primitives;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Slicing;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Walks an instance once against compiled schemas: per node the element's validators, the allowed types and the
/// primitive format; per group of siblings cardinality, slicing and unknown elements. Type schemas (datatypes,
/// extensions, contained resources, profiles) are fetched by canonical when first met, which is how recursive
/// structures terminate: the instance is finite even when the definitions are not.
/// </summary>
internal sealed class InstanceWalker : ITypeWalk
{
    private static readonly List<PocoNode> None = [];
    private static readonly string[] ExtensionElements = ["extension", "modifierExtension"];

    private readonly SchemaRepository _schemas;
    private readonly SliceMatcher _slices;
    private readonly ExtensionPlacement _extensionPlacement;

    public InstanceWalker(SchemaRepository schemas)
    {
        _schemas = schemas;
        _slices = new SliceMatcher(this);
        _extensionPlacement = new ExtensionPlacement(schemas);
    }

    public SchemaRepository Schemas => _schemas;

    /// <summary>Profile trials and target types, for slicing, profile choices and references.</summary>
    public ISliceConformance Conformance => _slices;

    /// <summary>Told of every walk of a node against a structure's root that is not a reused trial result (tests count walks with it).</summary>
    internal Action<PocoNode, StructureSchema>? RootWalkObserver { get; set; }

    /// <summary>
    /// Walks a node against a structure's root (a resource's profile or core definition, a datatype's or extension's
    /// definition, a type profile), unless a trial of the same node against the same schema at the same path has just
    /// done so: its result is then this walk's result (<see cref="ValidationRun.TryReplayTrial"/>).
    /// </summary>
    public ValueTask WalkRootAsync(PocoNode node, StructureSchema schema, InstancePath path, PocoNode resource, ValidationRun run)
    {
        if (run.TryReplayTrial(new ValidationRun.WalkKey(node.Poco, schema, path, resource.Poco)))
            return ValueTask.CompletedTask;
        RootWalkObserver?.Invoke(node, schema);
        return ValidateElementAsync(node, schema.Root, schema, path, resource, run);
    }

    /// <summary>Validates a resource against core R4, its meta.profile and <paramref name="extraProfiles"/>.</summary>
    public async ValueTask ValidateResourceAsync(PocoNode node, InstancePath path, ValidationRun run, IReadOnlyList<string> extraProfiles, bool profilesAreRequired)
    {
        var resource = (Resource)node.Poco;
        var applicable = new List<SchemaLookup>(1);
        // Read raw: in a partial parse result meta may be a list or a profile a number.
        var meta = RawElements.One<Meta>(resource, "meta");
        // Most resources declare no profile and are asked for none: no query is built for them.
        IEnumerable<(string Url, bool Required)> candidates = extraProfiles.Count == 0 && !RawElements.Has(meta, "profile")
            ? []
            : RawElements.Many<PrimitiveType>(meta, "profile").Select(p => p.JsonValue as string).OfType<string>().Where(p => p.Length > 0)
                // A profile both declared and required here (by a Bundle slice's type) is required: unknown, it is an error.
                .Select(p => (Url: p, Required: false)).Concat(extraProfiles.Select(p => (Url: p, Required: profilesAreRequired)))
                .GroupBy(p => p.Url, StringComparer.Ordinal).Select(g => (Url: g.Key, Required: g.Any(p => p.Required)));
        foreach (var profile in candidates)
        {
            var lookup = await _schemas.GetAsync(profile.Url).ConfigureAwait(false);
            if (lookup.Schema is null)
            {
                run.Report(profile.Required ? OperationOutcome.IssueSeverity.Error : OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.NotFound,
                    $"Profile {profile.Url} is unknown, so the resource was not checked against it: {lookup.Problem}", path, "profile-unknown");
                continue;
            }
            if (lookup.Schema.Type != resource.TypeName)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                    $"Profile {profile.Url} constrains {lookup.Schema.Type}, not {resource.TypeName}.", path, "profile-type");
                continue;
            }
            TypeLink.ReportDefinitionProblem(lookup, path, run);
            applicable.Add(lookup);
        }
        await AddImpliedProfileAsync(resource, path, run, applicable).ConfigureAwait(false);

        // A profile's snapshot carries every rule of the core definition it derives from, so a complete profile
        // replaces the core pass (the same walk twice would only find the same issues again).
        if (!applicable.Exists(l => l.Problem is null))
        {
            var core = await _schemas.GetAsync(SchemaRepository.CoreUrl(resource.TypeName)).ConfigureAwait(false);
            if (core.Schema is null)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotSupported,
                    $"Resource type {resource.TypeName} has no definition: {core.Problem}", path, "resource-type");
                return;
            }
            applicable.Insert(0, core);
        }
        // Each schema's result on the resource, combined as one set (FindingBuilder.Union).
        var walks = run.Findings.Mark;
        foreach (var lookup in applicable)
        {
            var walk = run.Findings.Mark;
            await WalkRootAsync(node, lookup.Schema!, path, node, run).ConfigureAwait(false);
            run.Findings.Union(walks, walk);
        }
        if (resource is Bundle)
            BundleRules.Check(node, path, run);
        if (resource is StructureDefinition)
            await DefinitionRules.CheckAsync(node, path, run, _schemas).ConfigureAwait(false);
    }

    /// <summary>
    /// A profile the specification requires because of the resource's content (a vital sign's profile), applied like a
    /// declared one and signposted as the reference validator does, unless the resource already declares it.
    /// </summary>
    private async ValueTask AddImpliedProfileAsync(Resource resource, InstancePath path, ValidationRun run, List<SchemaLookup> applicable)
    {
        if (ImpliedProfiles.For(resource) is not { } implied || applicable.Exists(l => l.Schema!.Canonical == implied.Profile))
            return;
        var lookup = await _schemas.GetAsync(implied.Profile).ConfigureAwait(false);
        if (lookup.Schema is null || lookup.Schema.Type != resource.TypeName)
            return;
        run.Report(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, implied.Reason, path, "profile-implied");
        TypeLink.ReportDefinitionProblem(lookup, path, run);
        applicable.Add(lookup);
    }

    /// <summary>Checks one node against one element of a schema and then its children (from the snapshot or the type's own schema).</summary>
    public async ValueTask ValidateElementAsync(PocoNode node, ElementSchema element, StructureSchema owner, InstancePath path, PocoNode resource, ValidationRun run)
    {
        var start = run.Findings.Mark;
        var visit = new ElementVisit(node, path, resource, run);
        if (!run.HasParseIssueAt(path))
        {
            // Indexed: a foreach over the IReadOnlyList would box its enumerator for every node.
            var validators = element.Validators;
            for (var v = 0; v < validators.Count; v++)
                validators[v].Validate(visit);
        }

        var definition = element.Content;
        // Children written under a choice of several types describe one of them only; the instance's type decides.
        var childrenApply = definition.Children.Count > 0 && !(definition.IsChoice && definition.Types.Count > 1);
        if (childrenApply)
        {
            // A resource whose element the profile constrains inside (Bundle.entry:x.resource.type) is validated as a
            // resource first (its type's profile, its meta.profile, core), as the reference validator does; the
            // profile's own children are applied after that only when the type's profiles are known: it skips them
            // when the resource could not be validated against its declared profile.
            if (node.Poco is Resource && !ReferenceEquals(element, owner.Root) && element.LinkFor(node.Poco) is ResourceLink resourceLink)
            {
                await resourceLink.FollowAsync(this, node, path, resource, run, start).ConfigureAwait(false);
                if (!await resourceLink.ProfilesKnownAsync(this).ConfigureAwait(false))
                    return;
            }
            // A profile that constrains a Reference's children (endpoint.reference) still has its targets and aggregation checked.
            if (node.Poco is ResourceReference constrainedReference && !ReferenceEquals(element, owner.Root))
                await (element.TypeFor(constrainedReference.TypeName)?.Reference ?? ReferenceValidator.Unconstrained).ValidateAsync(constrainedReference, path, resource, run, _slices).ConfigureAwait(false);
            await ValidateChildrenAsync(node, definition, owner, path, resource, run).ConfigureAwait(false);
            return;
        }
        // Then what the node's type links it to (its resource profiles, its datatype's or extension's definition), compiled per declared type.
        if (!ReferenceEquals(element, owner.Root) && element.LinkFor(node.Poco) is { } link)
            await link.FollowAsync(this, node, path, resource, run, start).ConfigureAwait(false);
    }

    private async ValueTask ValidateChildrenAsync(PocoNode node, ElementSchema parent, StructureSchema owner, InstancePath path, PocoNode resource, ValidationRun run)
    {
        // The instance's children sorted into the parent's compiled name slots; a name without a slot is unknown here.
        var groups = new List<PocoNode>?[parent.SlotByName.Count];
        foreach (var element in NodeChildren.Of(node))
        {
            var name = element.Key;
            if (!parent.SlotByName.TryGetValue(name, out var slot))
            {
                // Text input: the parser has reported it already, with its position (a trial judges it here all the same).
                if (run.ReportsUnknownElements)
                {
                    run.NoteTrialOnlyFinding();
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                        $"Element '{name}' is not defined for {parent.Path}.", path.Child(name, 0, repeating: false), "unknown-element");
                }
                continue;
            }
            groups[slot] = NodeChildren.Items(node, name, element.Value);
        }

        foreach (var name in ExtensionElements)
        {
            if (parent.SlotByName.TryGetValue(name, out var slot) && groups[slot] is { } extensions)
                await _extensionPlacement.CheckAsync(node, parent, path, resource, name, extensions, run).ConfigureAwait(false);
        }

        for (var c = 0; c < parent.Children.Count; c++)
        {
            var child = parent.Children[c];
            var items = groups[parent.ChildSlots[c]] ?? None;
            if (!child.Cardinality.IsUnconstrained)
                child.Cardinality.Validate(new SiblingGroup(items.Count, path, run));
            // Slices are checked even when there are no items: a required slice can be missing.
            IReadOnlyList<ElementSchema?>? assigned = null;
            if (child.Slicing is { } slicing)
                assigned = await _slices.AssignAsync(child, slicing, items, path, resource, run).ConfigureAwait(false);
            if (items.Count == 0)
            {
                if (run.Options.ReportMustSupport && child.MustSupport)
                {
                    run.Report(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
                        $"Must-support element {child.Path} is absent.", path.Child(child.Name, 0, repeating: false), "mustSupport");
                }
                continue;
            }

            // A big Bundle's entries are independent: validated by several workers, each into its own result, appended in entry order.
            if (node.Poco is Bundle && child.Path == "Bundle.entry" && run.CanFork && items.Count >= run.Options.ParallelEntryThreshold && run.Options.ParallelEntryThreshold > 0)
            {
                await ValidateItemsInParallelAsync(node, child, items, assigned, owner, path, resource, run).ConfigureAwait(false);
                continue;
            }
            for (var i = 0; i < items.Count; i++)
                await ValidateItemAsync(node, child, items[i], i, assigned, owner, path, resource, run).ConfigureAwait(false);
        }
    }

    private async ValueTask ValidateItemAsync(PocoNode node, ElementSchema child, PocoNode item, int i, IReadOnlyList<ElementSchema?>? assigned, StructureSchema owner,
        InstancePath path, PocoNode resource, ValidationRun run)
    {
        var typeName = item.Poco.TypeName;
        var itemPath = ItemPath(path, child, i, typeName);
        run.NoteVisited(itemPath);
        if (!child.TypeChoice.IsUntyped && child.TypeChoice.Resolve(typeName) is null)
        {
            var unnamed = typeName.StartsWith(ValidationRun.UnnamedResourcePrefix, StringComparison.Ordinal);
            if (unnamed)
                run.NoteUnnamedResource();
            if (!run.ParserLeftTypeToWalk(itemPath))
                return;
            // A resource written without resourceType: the parser's words, at the element the parser could not name.
            if (unnamed)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, "Resource has no 'resourceType' property.", itemPath, "structure");
            else
                child.TypeChoice.ReportNotAllowed(typeName, itemPath, path, run);
            run.NoteTypeReported(itemPath);
            return;
        }
        CheckPrimitive(item, itemPath, run);
        if (child.Name == "id" && node.Poco is Resource)
            ExtensionPlacement.CheckResourceId(item, itemPath, run);
        await ValidateElementAsync(item, assigned?[i] ?? child, owner, itemPath, resource, run).ConfigureAwait(false);
    }

    /// <summary>
    /// The items split into contiguous ranges (a few per worker, for balance), each range validated in order by a worker
    /// into its own run (<see cref="ValidationRun.Fork"/>), the ranges' results then appended in order: the output is the
    /// sequential one, byte for byte.
    /// </summary>
    private async ValueTask ValidateItemsInParallelAsync(PocoNode node, ElementSchema child, List<PocoNode> items, IReadOnlyList<ElementSchema?>? assigned,
        StructureSchema owner, InstancePath path, PocoNode resource, ValidationRun run)
    {
        var degree = Math.Max(1, run.Options.MaxDegreeOfParallelism ?? Environment.ProcessorCount);
        var rangeCount = Math.Min(items.Count, degree * 8);
        var workers = new ValidationRun[rangeCount];
        for (var r = 0; r < rangeCount; r++)
            workers[r] = run.Fork();
        await Parallel.ForEachAsync(Enumerable.Range(0, rangeCount), new ParallelOptions { MaxDegreeOfParallelism = degree }, async (r, _) =>
        {
            var end = (int)((long)items.Count * (r + 1) / rangeCount);
            for (var i = (int)((long)items.Count * r / rangeCount); i < end; i++)
                await ValidateItemAsync(node, child, items[i], i, assigned, owner, path, resource, workers[r]).ConfigureAwait(false);
        }).ConfigureAwait(false);
        foreach (var worker in workers)
            run.Join(worker);
    }

    /// <summary>The path of the <paramref name="index"/>th repetition of <paramref name="child"/> under <paramref name="parent"/>, of instance type <paramref name="typeName"/>.</summary>
    internal static InstancePath ItemPath(InstancePath parent, ElementSchema child, int index, string typeName) =>
        parent.Child(child.Name, index, child.Repeats, child.IsChoice ? typeName : null) with { ElementPath = child.Path };

    private static void CheckPrimitive(PocoNode item, InstancePath path, ValidationRun run)
    {
        if (item.Poco is not PrimitiveType primitive || run.HasParseIssueAt(path))
            return;
        // The reference validator checks this on every primitive beside ele-1, where the element has nothing at all: an
        // id alone is a child for it (ele-1 still fails, since an id is no content), so only ele-1 is reported then.
        // Children are asked of the node, not of the POCO's typed Extension/ElementId getters: on a partial instance
        // (a single extension object where an array belongs) those getters throw.
        if (primitive.JsonValue is null && !RawElements.HasChildOtherThan(primitive, except: null))
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"A primitive ({primitive.TypeName}) must have a value or extensions; this one has nothing.", path, "primitive-value");
            return;
        }
        if (primitive is XHtml { JsonValue: string xhtml })
        {
            // The reading leaves the narrative's XHTML to the walk (InstanceReader), so text and SDK objects are judged alike.
            foreach (var xhtmlProblem in NarrativeXhtmlRules.Problems(xhtml))
                run.Report(xhtmlProblem.Severity, OperationOutcome.IssueType.Invalid, xhtmlProblem.Message, path, "xhtml");
            return;
        }
        var problem = primitive.JsonValue switch
        {
            string text => PrimitiveFormats.Check(primitive.TypeName, text),
            int number when primitive.TypeName == "positiveInt" && number < 1 => $"{number} is not a valid positiveInt (a whole number of 1 or more).",
            int number when primitive.TypeName == "unsignedInt" && number < 0 => $"{number} is not a valid unsignedInt (a whole number of 0 or more).",
            _ => null,
        };
        if (problem is not null)
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value, problem, path, "primitive-format");
    }
}
