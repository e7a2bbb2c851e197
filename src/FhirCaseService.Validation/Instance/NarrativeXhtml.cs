using System.Xml.Linq;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// The parsed tree of a narrative's XHTML, shared by the checks that read the same div one after the other (txt-1 and
/// txt-2 are two constraints on Narrative.div, each with its own validator, checked in turn on one thread): the last
/// text parsed on a thread is kept with its tree, so the second check of a div does not parse it again. The text is
/// recognised by reference (the POCO's own string), so a tree is only ever reused for the very same value; a parse
/// that throws keeps nothing and throws again for the next caller, as before.
/// </summary>
internal static class NarrativeXhtml
{
    [ThreadStatic]
    private static string? _lastText;

    [ThreadStatic]
    private static XElement? _lastRoot;

    /// <summary>The root element of <paramref name="xhtml"/>; <see cref="System.Xml.XmlException"/> when it is not well-formed.</summary>
    public static XElement Parse(string xhtml)
    {
        if (ReferenceEquals(xhtml, _lastText) && _lastRoot is { } root)
            return root;
        var parsed = XElement.Parse(xhtml);
        (_lastText, _lastRoot) = (xhtml, parsed);
        return parsed;
    }
}
