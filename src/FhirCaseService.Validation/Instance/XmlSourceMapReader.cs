using System.Xml;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Scans FHIR XML once and records where each element starts, with the same keys as the JSON scan: sibling elements
/// of one name are indexed in order, and the resource-type wrapper inside resource/contained is skipped.
/// </summary>
internal static class XmlSourceMapReader
{
    private const string XhtmlNamespace = "http://www.w3.org/1999/xhtml";

    private sealed class Frame(string key)
    {
        public string Key { get; } = key;
        public Dictionary<string, int> ChildCounts { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Returns null when the text is not well-formed XML.</summary>
    public static SourceMap? Read(string xml)
    {
        var map = new SourceMap();
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), settings);
            var info = (IXmlLineInfo)reader;
            var stack = new Stack<Frame?>();
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.EndElement)
                {
                    stack.Pop();
                    continue;
                }
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                var position = new SourcePosition(info.LineNumber, info.LinePosition - 1);
                Frame? frame;
                if (stack.Count == 0)
                {
                    frame = new Frame(reader.LocalName);
                    map.Add(frame.Key, position);
                }
                else if (stack.Peek() is not { } parent || reader.NamespaceURI == XhtmlNamespace && parent.Key.EndsWith(".div[0]", StringComparison.Ordinal))
                {
                    frame = null;
                }
                else if (char.IsUpper(reader.LocalName[0]))
                {
                    // <resource><Patient>...: the wrapper names the type; the element is its parent.
                    frame = parent;
                }
                else
                {
                    parent.ChildCounts.TryGetValue(reader.LocalName, out var index);
                    parent.ChildCounts[reader.LocalName] = index + 1;
                    frame = new Frame($"{parent.Key}.{reader.LocalName}[{index}]");
                    map.Add(frame.Key, position);
                    if (stack.Count == 1 && parent.Key == "Bundle" && reader.LocalName == "entry")
                        map.AddBundleEntry(frame.Key, index);
                }
                if (reader.IsEmptyElement)
                    continue;
                stack.Push(frame);
            }
        }
        catch (XmlException)
        {
            return null;
        }
        return map;
    }
}
