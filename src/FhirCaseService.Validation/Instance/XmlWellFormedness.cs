using System.Xml;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// XML as the reference validator's parser accepts it (elementmodel.XmlParser): well-formed, no DOCTYPE, so no entity
/// beyond XML's own five and character references. The SDK's reader is more lenient (it reads an undeclared
/// <c>&amp;reg;</c> inside the narrative), so text it would read can still be no XML at all; the reference validator
/// reports that as one fatal issue on the document.
/// </summary>
internal static class XmlWellFormedness
{
    private static readonly XmlReaderSettings Settings = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };

    /// <summary>The parser's objection, or null for well-formed XML.</summary>
    public static string? Problem(string xml)
    {
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), Settings);
            while (reader.Read())
            {
            }
            return null;
        }
        catch (XmlException e)
        {
            return e.Message;
        }
    }
}
