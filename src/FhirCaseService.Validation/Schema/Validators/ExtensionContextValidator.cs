using System.Collections.Frozen;
using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// Where one extension definition may be used (StructureDefinition.context and contextInvariant), compiled once per
/// definition: element contexts as a set of paths (with the base-resource forms "DomainResource.text" kept as their
/// suffix), extension contexts as a set of URLs, FHIRPath contexts and invariants compiled. Checked on the element that
/// carries the extension, where the reference validator reports it. Immutable and thread-safe.
/// </summary>
public sealed class ExtensionContextValidator
{
    /// <summary>
    /// Core R4 extensions whose published context does not name where the specification itself uses them; the reference
    /// validator corrects these the same way.
    /// </summary>
    private static readonly FrozenDictionary<string, string[]> CorrectedElementContexts = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"] = ["ElementDefinition.type"],
        ["http://hl7.org/fhir/StructureDefinition/regex"] = ["ElementDefinition.type"],
        ["http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version"] = ["Element"],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly string _url;
    /// <summary>No context stated: the extension may be used anywhere.</summary>
    private readonly bool _unrestricted;
    /// <summary>An element context of Element or Any: anywhere too, but the contextInvariants still apply.</summary>
    private readonly bool _anyElement;
    private readonly bool _anyResource;
    private readonly FrozenSet<string> _elementPaths;
    /// <summary>"DomainResource.text" and "Resource.meta" as ".text" and ".meta": met by that element of any resource.</summary>
    private readonly FrozenSet<string> _baseResourceSuffixes;
    private readonly FrozenSet<string> _extensionUrls;
    private readonly IReadOnlyList<CompiledFhirPath> _fhirPathContexts;
    private readonly IReadOnlyList<CompiledFhirPath> _invariants;
    private readonly string _allowedText;

    public ExtensionContextValidator(string url, IReadOnlyList<ExtensionContext> contexts, IReadOnlyList<string> invariants)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(invariants);
        _url = url;
        _unrestricted = contexts.Count == 0;
        var elements = contexts.Where(c => c.Kind == ExtensionContextKind.Element).Select(c => c.Expression)
            .Concat(contexts.Count > 0 ? CorrectedElementContexts.GetValueOrDefault(url) ?? [] : []).ToList();
        _anyElement = elements.Exists(e => e is "Element" or "Any");
        _anyResource = elements.Contains("Resource");
        _elementPaths = elements.ToFrozenSet(StringComparer.Ordinal);
        _baseResourceSuffixes = elements
            .Select(e => e.StartsWith("DomainResource.", StringComparison.Ordinal) ? e["DomainResource".Length..]
                : e.StartsWith("Resource.", StringComparison.Ordinal) ? e["Resource".Length..] : null)
            .OfType<string>().ToFrozenSet(StringComparer.Ordinal);
        _extensionUrls = contexts.Where(c => c.Kind == ExtensionContextKind.Extension).Select(c => c.Expression).ToFrozenSet(StringComparer.Ordinal);
        _fhirPathContexts = contexts.Where(c => c.Kind == ExtensionContextKind.FhirPath).Select(c => FhirPathCache.Get(c.Expression)).ToArray();
        _invariants = invariants.Select(FhirPathCache.Get).ToArray();
        _allowedText = string.Join(", ", contexts.Select(c => c.Expression));
    }

    /// <summary>Reports where the extension may not sit on <paramref name="carrier"/>: outside its contexts, or against a contextInvariant.</summary>
    public void Validate(ExtensionCarrier carrier, ValidationRun run)
    {
        if (!IsAllowedOn(carrier, run))
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"The extension {_url} is not allowed to be used here ({carrier.Description}); allowed: {_allowedText}.",
                carrier.Path, "extension-context");
            return;
        }
        foreach (var invariant in _invariants)
        {
            if (Evaluate(invariant, carrier, run) is false)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"The extension {_url} is not allowed here: its context invariant '{invariant.Expression}' fails.", carrier.Path, "extension-context-invariant");
            }
        }
    }

    private bool IsAllowedOn(ExtensionCarrier carrier, ValidationRun run)
    {
        if (_unrestricted || _anyElement || _anyResource && carrier.Node.Poco is Resource)
            return true;
        if (_elementPaths.Count > 0)
        {
            foreach (var path in carrier.Paths)
            {
                if (_elementPaths.Contains(path))
                    return true;
                // "Patient.text" is also met by a context on the resource's base ("DomainResource.text").
                var dot = path.IndexOf('.', StringComparison.Ordinal);
                if (_baseResourceSuffixes.Count > 0 && dot > 0 && _baseResourceSuffixes.Contains(path[dot..]) && ModelInfo.IsKnownResource(path[..dot]))
                    return true;
            }
        }
        // On a complex extension, or on the value of one.
        if (_extensionUrls.Count > 0 && (IsExtensionInContext(carrier.Node) || carrier.Node.Parent is { } parent && IsExtensionInContext(parent)))
            return true;
        foreach (var context in _fhirPathContexts)
        {
            if (Selects(context, carrier, run))
                return true;
        }
        return false;
    }

    private bool IsExtensionInContext(PocoNode node) =>
        node.Poco is Extension extension && RawElements.Text(extension, "url") is { } url && _extensionUrls.Contains(url);

    private static bool Selects(CompiledFhirPath expression, ExtensionCarrier carrier, ValidationRun run)
    {
        // A context expression that does not compile, or that the engine cannot evaluate, says nothing against the extension.
        if (expression.Compiled is null)
            return true;
        try
        {
            var context = new FhirEvaluationContext { Resource = carrier.HoldingResource, RootResource = ElementVisit.RootOf(carrier.HoldingResource), ElementResolver = run.ResolveReference };
            return expression.Compiled([carrier.HoldingResource], context).Any(n => ReferenceEquals(n.Poco, carrier.Node.Poco));
        }
        catch (Exception)
        {
            return true;
        }
    }

    private static bool? Evaluate(CompiledFhirPath expression, ExtensionCarrier carrier, ValidationRun run)
    {
        if (expression.Compiled is null)
            return null;
        try
        {
            var context = new FhirEvaluationContext { Resource = carrier.HoldingResource, RootResource = ElementVisit.RootOf(carrier.HoldingResource), ElementResolver = run.ResolveReference };
            var result = expression.Compiled([carrier.Node], context).ToList();
            return result.Count == 1 && result[0].Poco is PrimitiveType { JsonValue: bool value } ? value : null;
        }
        catch (Exception)
        {
            return null;
        }
    }
}

/// <summary>
/// The element that carries extensions, as extension contexts name it: its path without indexes, its element's path
/// and its type (with the types it derives from), and its path within each enclosing type (Patient.address[0].line[0]
/// is also Address.line). Worked out on first use, once for all the extensions it carries.
/// </summary>
public sealed class ExtensionCarrier(PocoNode node, ElementSchema element, InstancePath path, PocoNode resource)
{
    private static readonly FrozenSet<string> QuantityKinds = new[] { "Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity" }.ToFrozenSet(StringComparer.Ordinal);

    private List<string>? _paths;

    public PocoNode Node { get; } = node;
    public InstancePath Path { get; } = path;
    /// <summary>%resource for context expressions.</summary>
    public PocoNode HoldingResource { get; } = resource;

    public IReadOnlyList<string> Paths => _paths ??= NamesOf(Node, element, Path);

    public string Description => $"this element is {Node.Poco.TypeName}, {StripIndexes(Path.Expression)}";

    private static List<string> NamesOf(PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath)
    {
        var paths = new List<string> { StripIndexes(carrierPath.Expression), carrierElement.Path, carrier.Poco.TypeName };
        if (carrierPath.ElementPath is { } elementPath)
            paths.Add(elementPath.EndsWith("[x]", StringComparison.Ordinal) ? elementPath[..^3] : elementPath);
        if (carrier.Poco is Resource)
        {
            if (carrier.Poco is DomainResource)
                paths.Add("DomainResource");
            paths.Add("Resource");
        }
        if (QuantityKinds.Contains(carrier.Poco.TypeName))
            paths.Add("Quantity");
        if (carrier.Poco.TypeName.Contains('.', StringComparison.Ordinal))
            paths.Add("BackboneElement");
        var below = new List<string>();
        for (var node = carrier; node.Parent is { } parent && node.Poco is not Resource; node = parent)
        {
            below.Insert(0, node.Name);
            paths.Add(parent.Poco.TypeName + "." + string.Join('.', below));
        }
        return paths;
    }

    private static string StripIndexes(string expression)
    {
        var text = new System.Text.StringBuilder(expression.Length);
        var depth = 0;
        foreach (var c in expression)
        {
            if (c == '[')
                depth++;
            else if (c == ']')
                depth--;
            else if (depth == 0)
                text.Append(c);
        }
        var ofType = text.ToString().IndexOf(".ofType(", StringComparison.Ordinal);
        return ofType > 0 ? text.ToString()[..ofType] : text.ToString();
    }
}
