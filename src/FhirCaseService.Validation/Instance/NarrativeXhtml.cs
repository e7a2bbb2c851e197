using System.Xml;
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
        var parsed = ParseSized(xhtml) ?? XElement.Parse(xhtml);
        (_lastText, _lastRoot) = (xhtml, parsed);
        return parsed;
    }

    /// <summary>
    /// The tree <see cref="XElement.Parse(string)"/> gives, read by a reader whose buffer is the text's size; null when
    /// the text has anything on which the two readers might differ, so the caller parses it the usual way.
    /// </summary>
    /// <remarks>
    /// XElement.Parse reads through an XmlReader over a StringReader, which allocates a 4,097-character buffer per
    /// parse whatever the text's length: with every resource's div parsed once, that buffer was the largest single
    /// allocation of a big Bundle's walk (issue 11). The fragment reader of <see cref="XmlTextReader"/> reads the string
    /// in place, with XElement.Parse's reading set up (whitespace ignored unless significant, line ends and attribute
    /// values normalized, no DTD, no resolver). Whatever is not plain element content goes the usual way, and so its
    /// verdict and message stay the usual ones: a character XML does not allow, a numeric character reference (the two
    /// readers check them in different places), any markup declaration (DOCTYPE, CDATA, comment), a processing
    /// instruction or XML declaration, content after the root element, and any error. Tests compare both trees on the
    /// divs of the examples and conformance files and on odd texts.
    /// </remarks>
    internal static XElement? ParseSized(string xhtml)
    {
        if (!IsPlainElementText(xhtml))
            return null;
        try
        {
            using var reader = new XmlTextReader(xhtml, XmlNodeType.Element, null)
            {
                Normalization = true,
                WhitespaceHandling = WhitespaceHandling.Significant,
                DtdProcessing = DtdProcessing.Prohibit,
                XmlResolver = null,
            };
            if (reader.MoveToContent() != XmlNodeType.Element)
                return null;
            var root = (XElement)XNode.ReadFrom(reader);
            return reader.MoveToContent() == XmlNodeType.None && reader.EOF ? root : null;
        }
        catch (Exception e) when (e is XmlException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Text that starts (after whitespace) with an element, and has only characters XML allows, no numeric character
    /// reference and no markup declaration or processing instruction.
    /// </summary>
    private static bool IsPlainElementText(string text)
    {
        var span = text.AsSpan();
        var start = span.IndexOfAnyExcept(" \t\r\n");
        if (start < 0 || span[start] != '<' || span.Contains("<!", StringComparison.Ordinal) || span.Contains("<?", StringComparison.Ordinal)
            || span.Contains("&#", StringComparison.Ordinal))
            return false;
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if (c is '\t' or '\n' or '\r' || c >= '\u0020' && c <= '\uD7FF' || c >= '\uE000' && c <= '\uFFFD')
                continue;
            if (char.IsHighSurrogate(c) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]))
            {
                i++;
                continue;
            }
            return false;
        }
        return true;
    }
}
