using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Rules about where an extension sits, checked on the element that carries it (the reference validator reports them
/// there): its URL must be absolute unless it is a sub-extension of a complex extension; a known definition must list
/// the carrier among its contexts (StructureDefinition.context: an element path or type, another extension, or a
/// FHIRPath expression) and the carrier must meet its contextInvariants; Resource.id carries no extension.
/// </summary>
internal sealed class ExtensionPlacement(SchemaRepository schemas)
{
    /// <summary>
    /// Core R4 extensions whose published context does not name where the specification itself uses them; the reference
    /// validator corrects these the same way.
    /// </summary>
    private static readonly Dictionary<string, ExtensionContext[]> CorrectedContexts = new(StringComparer.Ordinal)
    {
        ["http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"] = [new(ExtensionContextKind.Element, "ElementDefinition.type")],
        ["http://hl7.org/fhir/StructureDefinition/regex"] = [new(ExtensionContextKind.Element, "ElementDefinition.type")],
        ["http://hl7.org/fhir/StructureDefinition/structuredefinition-normative-version"] = [new(ExtensionContextKind.Element, "Element")],
    };

    private static readonly HashSet<string> QuantityKinds = new(StringComparer.Ordinal) { "Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity" };

    /// <summary>Checks the extensions of one carrier; <paramref name="carrierElement"/> is the schema element the carrier was validated against.</summary>
    public async ValueTask CheckAsync(PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath, PocoNode resource,
        string elementName, List<PocoNode> extensions, ValidationRun run)
    {
        for (var index = 0; index < extensions.Count; index++)
        {
            var extensionNode = extensions[index];
            if (extensionNode.Poco is not Extension extension || RawElements.Text(extension, "url") is not { Length: > 0 } url)
                continue;
            if (!IsAbsolute(url))
            {
                // A relative url names a sub-extension of a complex extension; anywhere else it names nothing.
                if (carrier.Poco is not Extension)
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                        $"Extension.url must be an absolute URL ('{url}' is not).", carrierPath.Child(elementName, index, repeating: true), "extension-url");
                }
                continue;
            }
            var lookup = await schemas.GetAsync(url).ConfigureAwait(false);
            if (lookup.Schema is not { Type: "Extension" } definition)
                continue;
            if (!IsAllowedHere(definition, carrier, carrierElement, carrierPath, resource, run))
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"The extension {url} is not allowed to be used here ({Describe(carrier, carrierElement, carrierPath)}); allowed: {string.Join(", ", definition.Contexts.Select(c => c.Expression))}.",
                    carrierPath, "extension-context");
                continue;
            }
            foreach (var invariant in definition.ContextInvariants)
            {
                if (Evaluate(invariant, carrier, resource, run) is { } holds && !holds)
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                        $"The extension {url} is not allowed here: its context invariant '{invariant}' fails.", carrierPath, "extension-context-invariant");
                }
            }
        }
    }

    /// <summary>Resource.id is a plain identity: an extension on it is an error (the reference validator's rule).</summary>
    public static void CheckResourceId(PocoNode id, InstancePath idPath, ValidationRun run)
    {
        if (RawElements.Count(id.Poco, "extension") > 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                "Extensions are not allowed on Resource.id.", idPath, "resource-id-extension");
        }
    }

    private static bool IsAbsolute(string url) => url.Contains(':', StringComparison.Ordinal);

    private static bool IsAllowedHere(StructureSchema definition, PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath, PocoNode resource, ValidationRun run)
    {
        if (definition.Contexts.Count == 0)
            return true;
        var paths = CarrierPaths(carrier, carrierElement, carrierPath);
        foreach (var context in definition.Contexts.Concat(CorrectedContexts.GetValueOrDefault(definition.Canonical) ?? []))
        {
            var allowed = context.Kind switch
            {
                ExtensionContextKind.Element => MatchesElement(context.Expression, carrier, paths),
                // On a complex extension, or on the value of one.
                ExtensionContextKind.Extension => IsExtensionWithUrl(carrier, context.Expression) || carrier.Parent is { } parent && IsExtensionWithUrl(parent, context.Expression),
                _ => Selects(context.Expression, carrier, resource, run),
            };
            if (allowed)
                return true;
        }
        return false;
    }

    private static bool IsExtensionWithUrl(PocoNode node, string url) => node.Poco is Extension extension && RawElements.Text(extension, "url") == url;

    /// <summary>The names the carrier goes by: its path without indexes, its element's path and its type (with the types it derives from).</summary>
    private static List<string> CarrierPaths(PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath)
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
        // The paths by each enclosing type: Patient.address[0].line[0] is also Address.line.
        var below = new List<string>();
        for (var node = carrier; node.Parent is { } parent && node.Poco is not Resource; node = parent)
        {
            below.Insert(0, node.Name);
            paths.Add(parent.Poco.TypeName + "." + string.Join('.', below));
        }
        return paths;
    }

    private static bool MatchesElement(string expression, PocoNode carrier, List<string> paths)
    {
        if (expression is "Element" or "Any" || expression == "Resource" && carrier.Poco is Resource)
            return true;
        foreach (var path in paths)
        {
            if (path == expression)
                return true;
            // "Patient.address" is also met by a context on the resource's base ("DomainResource.text" for "Patient.text").
            var dot = path.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && ModelInfo.IsKnownResource(path[..dot]) && (expression == "DomainResource" + path[dot..] || expression == "Resource" + path[dot..]))
                return true;
        }
        return false;
    }

    private static bool Selects(string expression, PocoNode carrier, PocoNode resource, ValidationRun run)
    {
        var compiled = FhirPathCache.Get(expression);
        if (compiled.Compiled is null)
            return true;
        try
        {
            var context = new FhirEvaluationContext { Resource = resource, RootResource = ElementVisit.RootOf(resource), ElementResolver = run.ResolveReference };
            return compiled.Compiled([resource], context).Any(n => ReferenceEquals(n.Poco, carrier.Poco));
        }
        // A context expression the engine cannot evaluate says nothing against the extension.
        catch (Exception)
        {
            return true;
        }
    }

    private static bool? Evaluate(string expression, PocoNode carrier, PocoNode resource, ValidationRun run)
    {
        var compiled = FhirPathCache.Get(expression);
        if (compiled.Compiled is null)
            return null;
        try
        {
            var context = new FhirEvaluationContext { Resource = resource, RootResource = ElementVisit.RootOf(resource), ElementResolver = run.ResolveReference };
            var result = compiled.Compiled([carrier], context).ToList();
            return result.Count == 1 && result[0].Poco is PrimitiveType { JsonValue: bool value } ? value : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static string Describe(PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath) =>
        $"this element is {carrier.Poco.TypeName}, {StripIndexes(carrierPath.Expression)}";

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
