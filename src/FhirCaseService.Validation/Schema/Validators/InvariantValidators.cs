using System.Collections.Frozen;
using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>A FHIRPath constraint (dom-*, obs-*, a profile's own rules), compiled once and evaluated on the node.</summary>
public sealed class FhirPathInvariantValidator : IElementValidator
{
    private readonly CompiledFhirPath _expression;

    private readonly Func<PocoNode, bool>? _certainlyHolds;

    public FhirPathInvariantValidator(string key, OperationOutcome.IssueSeverity severity, string human, CompiledFhirPath expression)
    {
        _certainlyHolds = KnownShortcuts.For(key, expression.Expression);
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(expression);
        Key = key;
        Severity = severity;
        Human = human;
        _expression = expression;
        _ordersValues = OrdersValues(expression.Expression);
    }

    private readonly bool _ordersValues;

    /// <summary>Whether the expression uses an ordering comparison (&lt;, &lt;=, &gt;, &gt;=) outside string literals.</summary>
    private static bool OrdersValues(string expression)
    {
        var quoted = false;
        foreach (var c in expression)
        {
            if (c == '\'')
                quoted = !quoted;
            else if (!quoted && c is '<' or '>')
                return true;
        }
        return false;
    }

    public string Key { get; }
    public OperationOutcome.IssueSeverity Severity { get; }
    public string Human { get; }
    public string Expression => _expression.Expression;

    /// <summary>The StructureDefinition that declares the constraint (constraint.source): profiles inheriting it report one finding (<see cref="Engine.Finding"/>).</summary>
    public string? Origin { get; init; }

    public void Validate(in ElementVisit visit)
    {
        if (_expression.Compiled is null)
        {
            visit.Run.ReportOnce("compile:" + Key + ":" + Expression, OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Exception,
                $"Constraint {Key} was not checked: its FHIRPath expression '{Expression}' does not compile ({_expression.Error}).", visit.Path, Key);
            return;
        }
        if (_certainlyHolds?.Invoke(visit.Node) == true)
            return;
        bool? holds;
        try
        {
            // A native evaluation (NativeConstraints) gives the engine's verdict, or null to leave it to the engine.
            holds = _expression.Native?.Invoke(visit.Node.Poco) ?? Interpret(_expression.Compiled([visit.Node],
                new FhirEvaluationContext { Resource = visit.Resource, RootResource = visit.RootResource, ElementResolver = visit.Run.ResolveReference }));
        }
        // Evaluation errors (e.g. single() over several items) come as various exception types from the engine; they
        // are a limit of the definition or the engine, reported once, never a crash of the whole validation.
        catch (Exception e)
        {
            visit.Run.ReportOnce("eval:" + Key + ":" + visit.Path.Expression, OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Exception,
                $"Constraint {Key} could not be evaluated here: {e.Message}", visit.Path, Key);
            return;
        }
        if (holds == false)
            visit.Run.Report(Severity, OperationOutcome.IssueType.Invariant, $"Constraint {Key} failed: {Human}", visit.Path, Key, Origin);
    }

    /// <summary>
    /// An empty result means the rule does not apply, except for a constraint that orders values: there empty means the
    /// comparison could not be decided (dates of different precision, per-1's 2023-06-21 against 2023-06-21T06:20:00Z),
    /// which proves nothing, and the reference validator counts it as a failure. Several items are true.
    /// </summary>
    private bool? Interpret(IEnumerable<PocoNode> result)
    {
        using var items = result.GetEnumerator();
        if (!items.MoveNext())
            return _ordersValues ? false : null;
        var first = items.Current;
        if (items.MoveNext())
            return true;
        // The engine answers with its own boolean type (FPBoolean), not FhirBoolean: read the primitive value.
        return first.Poco is PrimitiveType { JsonValue: bool value } ? value : true;
    }
}

/// <summary>
/// dom-6 as the reference validator evaluates it ("(%rootResource != $this) or text.`div`.exists()"): a narrative is
/// asked of the root resource only, a contained resource being shown by its container's. Checked natively: the FHIRPath
/// engine would compare the resource with itself, element by element, on every resource without a narrative.
/// </summary>
public sealed class RootNarrativeValidator(string key, OperationOutcome.IssueSeverity severity, string human) : IElementValidator
{
    public string? Origin { get; init; }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not DomainResource resource || !ReferenceEquals(ElementVisit.RootOf(visit.Node), visit.Node)
            || RawElements.Has(RawElements.One<Narrative>(resource, "text"), "div"))
            return;
        visit.Run.Report(severity, OperationOutcome.IssueType.Invariant, $"Constraint {key} failed: {human}", visit.Path, key, Origin);
    }
}

/// <summary>The core definitions that declare the constraints checked natively (their findings' origin).</summary>
internal static class CoreOrigins
{
    public const string Element = "http://hl7.org/fhir/StructureDefinition/Element";
    public const string Extension = "http://hl7.org/fhir/StructureDefinition/Extension";
    public const string Narrative = "http://hl7.org/fhir/StructureDefinition/Narrative";
}

/// <summary>ele-1 (every element has a value or children), checked natively: it applies to every element of every resource.</summary>
public sealed class HasValueOrChildrenValidator : IElementValidator
{
    public static readonly HasValueOrChildrenValidator Instance = new();

    private HasValueOrChildrenValidator()
    {
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is PrimitiveType { JsonValue: not null })
            return;
        if (RawElements.HasChildOtherThan(visit.Node.Poco, "id"))
            return;
        visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant,
            "Constraint ele-1 failed: the element is empty (no value and no children). Remove it or fill it in.", visit.Path, "ele-1", CoreOrigins.Element);
    }
}

/// <summary>
/// txt-1 and txt-2 natively. Both are written as the one FHIRPath function htmlChecks(), which the SDK answers for both
/// at once (so an empty paragraph fails txt-1 too); the reference validator checks each for what it says: txt-1 the
/// element and attribute names by its own tables (its htmlChecks: the elements of the XHTML it allows, attributes allowed
/// on every element, and attributes allowed on one element only: href on a, src on img...), txt-2 some non-whitespace content.
/// </summary>
public sealed class NarrativeHtmlValidator : IElementValidator
{
    private static readonly FrozenSet<string> Elements = new[]
    {
        "p", "br", "div", "h1", "h2", "h3", "h4", "h5", "h6", "a", "span", "b", "em", "i", "strong", "small", "big", "tt", "dfn", "q", "var", "abbr",
        "acronym", "cite", "blockquote", "hr", "address", "bdo", "kbd", "sub", "sup", "ul", "ol", "li", "dl", "dt", "dd", "pre", "table", "caption",
        "colgroup", "col", "thead", "tr", "tfoot", "tbody", "th", "td", "code", "samp", "img", "map", "area",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Attributes any allowed element may carry, besides xml:lang and xml:space.</summary>
    private static readonly FrozenSet<string> Attributes = new[]
    {
        "title", "style", "class", "id", "lang", "dir", "accesskey", "tabindex",
        "span", "width", "align", "valign", "char", "charoff", "abbr", "axis", "headers", "scope", "rowspan", "colspan",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Attributes allowed on one element only, by element.</summary>
    private static readonly FrozenDictionary<string, FrozenSet<string>> ElementAttributes = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["a"] = ["href", "name", "charset", "type", "hreflang", "rel", "rev", "shape", "coords"],
        ["img"] = ["src", "border", "alt", "longdesc", "height", "width", "usemap", "ismap"],
        ["map"] = ["name"],
        ["area"] = ["shape", "coords", "href", "nohref", "alt"],
        ["table"] = ["summary", "width", "border", "frame", "rules", "cellspacing", "cellpadding"],
        ["div"] = ["xmlns"],
        ["blockquote"] = ["cite"],
        ["q"] = ["cite"],
        ["pre"] = ["space"],
        ["td"] = ["nowrap"],
    }.ToFrozenDictionary(e => e.Key, e => e.Value.ToFrozenSet(StringComparer.Ordinal), StringComparer.Ordinal);

    private readonly string _key;
    private readonly string _human;

    public NarrativeHtmlValidator(string key, string human)
    {
        _key = key;
        _human = human;
    }

    public static bool Handles(string key) => key is "txt-1" or "txt-2";

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not PrimitiveType { JsonValue: string xhtml })
            return;
        System.Xml.Linq.XElement root;
        try
        {
            root = NarrativeXhtml.Parse(xhtml);
        }
        // XHTML that is not well-formed is the walk's "xhtml" finding (NarrativeXhtmlRules).
        catch (System.Xml.XmlException)
        {
            return;
        }
        var holds = _key == "txt-1" ? OnlyAllowedNames(root) : HasContent(root);
        if (!holds)
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant, $"Constraint {_key} failed: {_human}", visit.Path, _key, CoreOrigins.Narrative);
    }

    // Loops rather than nested All(...) lambdas: the inner lambda's closure over the element was made per element.
    private static bool OnlyAllowedNames(System.Xml.Linq.XElement root)
    {
        foreach (var element in root.DescendantsAndSelf())
        {
            var name = element.Name.LocalName;
            if (!Elements.Contains(name))
                return false;
            foreach (var attribute in element.Attributes())
            {
                if (!IsAllowed(name, attribute))
                    return false;
            }
        }
        return true;
    }

    private static bool IsAllowed(string element, System.Xml.Linq.XAttribute attribute)
    {
        if (attribute.IsNamespaceDeclaration)
            return true;
        if (attribute.Name.Namespace == System.Xml.Linq.XNamespace.Xml)
            return attribute.Name.LocalName is "lang" or "space";
        var name = attribute.Name.LocalName;
        return Attributes.Contains(name) || ElementAttributes.TryGetValue(element, out var own) && own.Contains(name);
    }

    private static bool HasContent(System.Xml.Linq.XElement root) =>
        root.DescendantNodes().OfType<System.Xml.Linq.XText>().Any(t => !string.IsNullOrWhiteSpace(t.Value))
        || root.Descendants().Any(e => e.Name.LocalName == "img");
}

/// <summary>ext-1 (an extension has either nested extensions or a value, not both), checked natively as it applies to every extension.</summary>
public sealed class ExtensionValueOrChildrenValidator : IElementValidator
{
    public static readonly ExtensionValueOrChildrenValidator Instance = new();

    private ExtensionValueOrChildrenValidator()
    {
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is Extension extension && RawElements.Has(extension, "value") && RawElements.Count(extension, "extension") > 0)
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invariant,
                $"Constraint ext-1 failed: extension {RawElements.Text(extension, "url")} has both a value and nested extensions; keep one.", visit.Path, "ext-1", CoreOrigins.Extension);
        }
    }
}

/// <summary>
/// Native answers for the core constraints met on nearly every resource (dom-2..6, obs-6/7, qty-3, ref-1, per-1): where the instance makes the
/// answer obvious (no contained resources, a narrative present, no value), the FHIRPath engine is not called. The
/// FHIRPath expression still decides every other case, so the native part can only say "holds", never "fails". Values
/// are read raw (<see cref="RawElements"/>): a partial parse result may hold parts of the wrong shape.
/// </summary>
internal static class KnownShortcuts
{
    public static Func<PocoNode, bool>? For(string key, string expression) => key switch
    {
        // contained.contained.empty(), contained.where(...).empty(), contained.meta...empty(): true without contained.
        "dom-2" or "dom-3" or "dom-4" or "dom-5" when expression.StartsWith("contained.", StringComparison.Ordinal) =>
            node => node.Poco is DomainResource resource && RawElements.Count(resource, "contained") == 0,
        "dom-6" when expression == "text.`div`.exists()" =>
            node => node.Poco is DomainResource resource && RawElements.Text(RawElements.One<Narrative>(resource, "text"), "div") is not null,
        "obs-6" when expression == "dataAbsentReason.empty() or value.empty()" =>
            node => node.Poco is Observation observation && (!RawElements.Has(observation, "dataAbsentReason") || !RawElements.Has(observation, "value")),
        "obs-7" when expression.StartsWith("value.empty() or component.code.where(", StringComparison.Ordinal) =>
            node => node.Poco is Observation observation && (!RawElements.Has(observation, "value") || RawElements.Count(observation, "component") == 0),
        "qty-3" when expression == "code.empty() or system.exists()" =>
            node => node.Poco is Quantity quantity && (RawElements.Text(quantity, "code") is null || RawElements.Text(quantity, "system") is not null),
        "ref-1" when expression.StartsWith("reference.startsWith('#').not() or ", StringComparison.Ordinal) =>
            // "#" alone is the container itself (references.html#contained), which R4's ref-1 forgets.
            node => node.Poco is ResourceReference reference && RawElements.Text(reference, "reference") is not ['#', _, ..],
        "per-1" when expression.StartsWith("start.hasValue().not() or end.hasValue().not() or ", StringComparison.Ordinal) =>
            node => node.Poco is Period period && (RawElements.Text(period, "start") is null || RawElements.Text(period, "end") is null),
        "sqty-1" when expression == "comparator.empty()" =>
            node => node.Poco is Quantity quantity && !RawElements.Has(quantity, "comparator"),
        // The Bundle rules run over every entry. Through the FHIRPath engine they cost a third of a 10,000-entry Bundle's
        // invariant time (issue 11: "evaluate natively with the same verdict"); a plainly shaped Bundle is decided here.
        "bdl-3" when expression == "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))" =>
            node => EveryEntryHasIff(node, "request", "batch", "transaction", "history"),
        "bdl-4" when expression == "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))" =>
            node => EveryEntryHasIff(node, "response", "batch-response", "transaction-response", "history"),
        "bdl-5" when expression == "resource.exists() or request.exists() or response.exists()" =>
            node => node.Poco is Bundle.EntryComponent entry
                    && (RawElements.Has(entry, "resource") || RawElements.Has(entry, "request") || RawElements.Has(entry, "response")),
        "bdl-7" when expression == "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()" =>
            FullUrlsWithVersionsDistinct,
        "bdl-8" when expression == "fullUrl.contains('/_history/').not()" =>
            node => node.Poco is Bundle.EntryComponent entry && RawElements.Text(entry, "fullUrl")?.Contains("/_history/", StringComparison.Ordinal) != true,
        _ => null,
    };

    /// <summary>
    /// bdl-3/bdl-4 on a Bundle whose type is given: every entry has <paramref name="element"/> exactly when the type is one
    /// of <paramref name="types"/>. %resource is the Bundle itself here (the constraint sits on Bundle). Without a type the
    /// comparison is empty for the engine, and an entry list with a null or wrong-shaped item is left to it too.
    /// </summary>
    private static bool EveryEntryHasIff(PocoNode node, string element, params string[] types)
    {
        if (node.Poco is not Bundle bundle || RawElements.Text(bundle, "type") is not { } type
            || !RawElements.IsAbsentOrWellFormedList<Bundle.EntryComponent>(bundle, "entry"))
            return false;
        var expected = Array.IndexOf(types, type) >= 0;
        foreach (var entry in RawElements.Many<Bundle.EntryComponent>(bundle, "entry"))
        {
            if (RawElements.Has(entry, element) != expected)
                return false;
        }
        return true;
    }

    /// <summary>
    /// bdl-7: a history Bundle holds; otherwise the fullUrl of every entry that has one, joined with its resource's
    /// meta.versionId (FHIRPath's &amp; reads an absent operand as ''), is distinct. One hash set instead of the engine's
    /// pairwise comparison of every entry with every other.
    /// </summary>
    private static bool FullUrlsWithVersionsDistinct(PocoNode node)
    {
        if (node.Poco is not Bundle bundle || !RawElements.IsAbsentOrWellFormedList<Bundle.EntryComponent>(bundle, "entry"))
            return false;
        if (RawElements.Text(bundle, "type") == "history")
            return true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in RawElements.Many<Bundle.EntryComponent>(bundle, "entry"))
        {
            if (RawElements.Text(entry, "fullUrl") is not { } fullUrl)
            {
                // A fullUrl with extensions and no value still counts for the engine (as ''): leave that to it.
                if (RawElements.Has(entry, "fullUrl"))
                    return false;
                continue;
            }
            var versionId = RawElements.Text(RawElements.One<Meta>(RawElements.One<Resource>(entry, "resource"), "meta"), "versionId");
            if (!seen.Add(fullUrl + versionId))
                return false;
        }
        return true;
    }
}
