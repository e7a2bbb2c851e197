using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// Hyperlinks in a narrative, as the reference validator checks them (InstanceValidator.checkReferences,
/// countTargetMatches): an <c>href</c> may not be empty; a link inside the document (<c>#name</c>) must name an element
/// id, or an XHTML <c>id</c> or anchor <c>name</c>, in the resource that holds the narrative or, failing that, anywhere in
/// a Bundle that holds the resource (a Bundle's narratives link to each other's entries); an absolute link may not
/// run script (javascript:, vbscript:) and must be a literal address (not urn: or cid:). Relative links to other
/// pages cannot be judged here and are left alone.
/// </summary>
public sealed class NarrativeLinkValidator : IElementValidator
{
    public static readonly NarrativeLinkValidator Instance = new();

    // What one resource or Bundle offers as link targets, worked out once for all the links that look into it.
    private static readonly ConditionalWeakTable<Base, IReadOnlyDictionary<string, int>> TargetsByHolder = [];

    private NarrativeLinkValidator()
    {
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not PrimitiveType { JsonValue: string text } || !text.Contains("href", StringComparison.Ordinal))
            return;
        XElement root;
        try
        {
            root = XElement.Parse(text);
        }
        // XHTML that is not well-formed is the walk's "xhtml" finding (NarrativeXhtmlRules).
        catch (System.Xml.XmlException)
        {
            return;
        }
        foreach (var anchor in root.DescendantsAndSelf().Where(e => e.Name.LocalName == "a"))
        {
            if (anchor.Attribute("href") is not { } hrefAttribute)
                continue;
            var href = hrefAttribute.Value;
            var where = XPathOf(anchor);
            var label = string.Join(' ', anchor.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            if (string.IsNullOrWhiteSpace(href))
                Error(visit, $"The hyperlink at '{where}' ('{label}') has an empty href.");
            else if (href.Length > 1 && href[0] == '#')
                CheckInternal(visit, href, where, label);
            else if (SchemeOf(href) is { } scheme)
                CheckScheme(visit, href, scheme, where, label);
        }
    }

    private static void CheckInternal(in ElementVisit visit, string href, string where, string label)
    {
        var name = href[1..];
        var count = Count(visit.Resource.Poco, name);
        if (count == 0)
        {
            for (var node = visit.Resource.Parent; node is not null; node = node.Parent)
            {
                if (node.Poco is Bundle bundle)
                    count += Count(bundle, name);
            }
        }
        if (count == 0)
            Error(visit, $"Hyperlink '{href}' at '{where}' for '{label}' does not resolve: nothing in the resource{(InBundle(visit) ? " or its Bundle" : "")} has that id or anchor name.");
        else if (count > 1)
            visit.Run.Report(OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Invalid,
                $"Hyperlink '{href}' at '{where}' for '{label}' matches {count} targets.", visit.Path, "narrative-link");
    }

    private static bool InBundle(in ElementVisit visit)
    {
        for (var node = visit.Resource.Parent; node is not null; node = node.Parent)
        {
            if (node.Poco is Bundle)
                return true;
        }
        return false;
    }

    private static void CheckScheme(in ElementVisit visit, string href, string scheme, string where, string label)
    {
        if (scheme is "javascript" or "vbscript")
            Error(visit, $"The hyperlink '{href}' at '{where}' for '{label}' runs script ({scheme}:), which a narrative may not do.");
        else if (scheme is "urn" or "cid")
            Error(visit, $"The hyperlink '{href}' at '{where}' for '{label}' is not a literal address ({scheme}:), so a reader cannot follow it.");
    }

    private static void Error(in ElementVisit visit, string message) =>
        visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid, message, visit.Path, "narrative-link");

    /// <summary>The scheme of an absolute URL as the reference validator reads one (a lower-case token, then something without spaces).</summary>
    private static string? SchemeOf(string href)
    {
        var colon = href.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == href.Length - 1 || href.AsSpan(colon + 1).Contains(' '))
            return null;
        var scheme = href[..colon];
        return scheme.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-' or '.' or '+') ? scheme : null;
    }

    private static string XPathOf(XElement element)
    {
        var steps = new List<string>();
        for (var e = element; e is not null; e = e.Parent)
            steps.Insert(0, e.Name.LocalName);
        return string.Join('/', steps);
    }

    private static int Count(Base holder, string name) =>
        TargetsByHolder.GetValue(holder, static h => CollectTargets(h)).GetValueOrDefault(name);

    private static Dictionary<string, int> CollectTargets(Base holder)
    {
        var targets = new Dictionary<string, int>(StringComparer.Ordinal);
        var pending = new Stack<Base>();
        pending.Push(holder);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            var id = node switch
            {
                Resource resource => resource.Id,
                Element element => element.ElementId,
                _ => null,
            };
            if (!string.IsNullOrEmpty(id))
                Add(targets, id);
            if (node is XHtml { JsonValue: string xhtml })
                AddXhtmlTargets(targets, xhtml);
            foreach (var child in node.EnumerateElements())
            {
                switch (child.Value)
                {
                    case Base single:
                        pending.Push(single);
                        break;
                    case IEnumerable<Base?> items:
                        foreach (var item in items)
                        {
                            if (item is not null)
                                pending.Push(item);
                        }
                        break;
                }
            }
        }
        return targets;
    }

    private static void AddXhtmlTargets(Dictionary<string, int> targets, string xhtml)
    {
        if (!xhtml.Contains("id=", StringComparison.Ordinal) && !xhtml.Contains("name=", StringComparison.Ordinal))
            return;
        try
        {
            foreach (var element in XElement.Parse(xhtml).DescendantsAndSelf())
            {
                if (element.Attribute("id")?.Value is { Length: > 0 } id)
                    Add(targets, id);
                if (element.Name.LocalName == "a" && element.Attribute("name")?.Value is { Length: > 0 } name)
                    Add(targets, name);
            }
        }
        catch (System.Xml.XmlException)
        {
            // A narrative that is not well-formed offers no targets; its own validation reports it.
        }
    }

    private static void Add(Dictionary<string, int> targets, string name) =>
        targets[name] = targets.GetValueOrDefault(name) + 1;
}
