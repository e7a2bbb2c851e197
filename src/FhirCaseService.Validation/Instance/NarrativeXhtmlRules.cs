using System.Xml;
using System.Xml.Linq;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// What the HL7 reference validator checks of an xhtml value beside txt-1 and txt-2 (its XhtmlParser and the xhtml checks
/// of InstanceValidator): the value is well-formed XML (no DOCTYPE); its root is a <c>div</c> in the XHTML namespace and
/// every element below is in that namespace or none; no block element (div, blockquote, table, ol, ul, p) inside a
/// paragraph; and, as a warning, no id (or anchor name) used twice. Element and attribute names are txt-1's, content is txt-2's (<see cref="Schema.Validators.NarrativeHtmlValidator"/>).
/// The SDK's schema check of the narrative (fhir-xhtml.xsd) is not applied: its attribute datatypes (an <c>id</c> must be
/// an xs:ID, an NCName, unique in the div; <c>colspan</c> a number...) and content models are stricter than what the
/// reference validator accepts (<c>id="AllergyIntolerance-urn:uuid:..."</c> in the IPS), and a finding of it also came in
/// place of txt-1, so a script element reported "invalid child element" instead of txt-1.
/// </summary>
internal static class NarrativeXhtmlRules
{
    public const string XhtmlNamespace = "http://www.w3.org/1999/xhtml";

    private static readonly HashSet<string> BlockElements = new(StringComparer.Ordinal) { "div", "blockquote", "table", "ol", "ul", "p" };

    /// <summary>A problem of the XHTML: its severity and what to say.</summary>
    public readonly record struct Problem(OperationOutcome.IssueSeverity Severity, string Message);

    /// <summary>The problems of <paramref name="xhtml"/>, one per kind of problem; empty when there is none.</summary>
    public static List<Problem> Problems(string xhtml)
    {
        XElement root;
        try
        {
            root = NarrativeXhtml.Parse(xhtml);
        }
        catch (XmlException e)
        {
            return [new(OperationOutcome.IssueSeverity.Error, $"The narrative is not well-formed XHTML: {e.Message}")];
        }
        var problems = new List<Problem>(0);
        if (root.Name.LocalName != "div" || root.Name.NamespaceName != XhtmlNamespace)
        {
            problems.Add(new(OperationOutcome.IssueSeverity.Error, root.Name.NamespaceName.Length == 0
                ? $"The narrative's root element <{root.Name.LocalName}> has no namespace: it must be a <div> in the XHTML namespace ({XhtmlNamespace})."
                : $"The narrative's root element is <{root.Name.LocalName}> in namespace '{root.Name.NamespaceName}': it must be a <div> in the XHTML namespace ({XhtmlNamespace})."));
        }
        var foreign = root.Descendants().Where(e => e.Name.NamespaceName.Length > 0 && e.Name.NamespaceName != XhtmlNamespace)
            .Select(e => $"<{e.Name.LocalName}> ({e.Name.NamespaceName})").Distinct(StringComparer.Ordinal).ToList();
        if (foreign.Count > 0)
            problems.Add(new(OperationOutcome.IssueSeverity.Error, $"Elements of the narrative must be in the XHTML namespace ({XhtmlNamespace}); these are not: {string.Join(", ", foreign)}."));
        var blocksInParagraph = BlocksInParagraphs(root);
        if (blocksInParagraph.Count > 0)
            problems.Add(new(OperationOutcome.IssueSeverity.Error, $"A paragraph (<p>) of the narrative may not hold block elements; found {string.Join(", ", blocksInParagraph.Select(n => $"<{n}>"))} inside one."));
        if (Duplicates(root) is { Count: > 0 } duplicates)
        {
            problems.Add(new(OperationOutcome.IssueSeverity.Warning,
                $"The narrative uses these ids (or anchor names) more than once, so a link to them is ambiguous: {string.Join(", ", duplicates.Select(d => $"{d.Key} ({d.Value}x)"))}."));
        }
        return problems;
    }

    /// <summary>
    /// The names of block elements below a <c>p</c> of the root's content, sorted. One pass with an explicit stack: linear
    /// in the number of elements however deep they nest.
    /// </summary>
    private static SortedSet<string> BlocksInParagraphs(XElement root)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(XElement Element, bool InParagraph)>();
        pending.Push((root, false));
        while (pending.TryPop(out var item))
        {
            foreach (var child in item.Element.Elements())
            {
                var name = child.Name.LocalName;
                if (item.InParagraph && BlockElements.Contains(name))
                    found.Add(name);
                pending.Push((child, item.InParagraph || name == "p"));
            }
        }
        return found;
    }

    /// <summary>
    /// Ids and anchor names used more than once, with how often, sorted (as the reference validator counts them: an
    /// anchor's name equal to its own id counts once; the root div's own id is not counted).
    /// </summary>
    private static SortedDictionary<string, int>? Duplicates(XElement root)
    {
        if (!root.Descendants().Any(e => e.Attribute("id") is not null || e.Attribute("name") is not null))
            return null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        SortedDictionary<string, int>? duplicates = null;
        foreach (var element in root.Descendants())
        {
            var id = element.Attribute("id")?.Value;
            if (id is not null)
                Count(id);
            if (element.Name.LocalName == "a" && element.Attribute("name")?.Value is { } name && name != id)
                Count(name);
        }
        return duplicates;

        void Count(string key)
        {
            if (seen.Add(key))
                return;
            duplicates ??= new SortedDictionary<string, int>(StringComparer.Ordinal);
            duplicates[key] = duplicates.TryGetValue(key, out var n) ? n + 1 : 2;
        }
    }
}
