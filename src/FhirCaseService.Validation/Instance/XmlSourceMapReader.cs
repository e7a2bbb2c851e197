using System.Xml;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// A child element of a primitive that the SDK's XML reader cannot map: <c>&lt;value&gt;</c> written as an element
/// inside <c>&lt;valueInteger&gt;</c>, where the value belongs in an attribute. The SDK throws on it
/// (<see cref="NotSupportedException"/>), which would make the whole document unreadable; the reference validator's
/// parser reports it as an undefined element on the primitive and reads the rest.
/// </summary>
/// <param name="Name">The element's local name.</param>
/// <param name="Key">The source key of the element itself (the walk never reaches it).</param>
/// <param name="ParentKey">The source key of the primitive that holds it.</param>
/// <param name="Position">Where the element starts.</param>
/// <param name="Start">Offset of its <c>&lt;</c> in the text.</param>
/// <param name="End">Offset just past its end tag (or <c>/&gt;</c>).</param>
internal sealed record UnreadableXmlElement(string Name, string Key, string ParentKey, SourcePosition Position, int Start, int End);

/// <summary>The source map of an XML text and the elements in it the SDK's reader cannot map.</summary>
internal sealed record XmlScan(SourceMap Map, IReadOnlyList<UnreadableXmlElement> Unreadable);

/// <summary>
/// Scans FHIR XML once and records where each element starts, with the same keys as the JSON scan: sibling elements
/// of one name are indexed in order, and the resource-type wrapper inside resource/contained is skipped. Each element's
/// XML path is recorded too, and its FHIR type is followed through the SDK model so that content a primitive cannot
/// hold is found before the SDK's reader meets it.
/// </summary>
internal static class XmlSourceMapReader
{
    private const string XhtmlNamespace = "http://www.w3.org/1999/xhtml";
    private const string FhirNamespace = "http://hl7.org/fhir";

    private sealed class Frame(string key, string xmlPath, ClassMapping? type, Dictionary<string, int> childCounts)
    {
        public string Key { get; } = key;
        public string XmlPath { get; } = xmlPath;

        /// <summary>The element's FHIR type, when the model knows it (null: unknown element, or inside one).</summary>
        public ClassMapping? Type { get; } = type;

        /// <summary>The next element is a resource's type wrapper (contained, entry.resource, parameter.resource).</summary>
        public bool HoldsResource { get; init; }

        public Dictionary<string, int> ChildCounts { get; } = childCounts;

        /// <summary>Set on an unreadable element: its end tag completes the record.</summary>
        public (string Name, string ParentKey, SourcePosition Position, int Start)? Unreadable { get; init; }
    }

    /// <summary>Returns null when the text is not well-formed XML.</summary>
    public static XmlScan? Read(string xml)
    {
        var map = new SourceMap();
        var unreadable = new List<UnreadableXmlElement>();
        var lineStarts = LineStarts(xml);
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
                    if (stack.Pop() is { Unreadable: { } open } closed)
                        unreadable.Add(Complete(open, closed.Key, xml.IndexOf('>', Offset(lineStarts, info)) + 1));
                    continue;
                }
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                var position = new SourcePosition(info.LineNumber, info.LinePosition - 1);
                var step = "/" + Prefix(reader.NamespaceURI) + reader.LocalName;
                Frame? frame;
                if (stack.Count == 0)
                {
                    frame = new Frame(reader.LocalName, step, ModelInfo.ModelInspector.FindClassMapping(reader.LocalName), new(StringComparer.Ordinal));
                    map.Add(frame.Key, position);
                    map.AddXmlPath(frame.Key, frame.XmlPath);
                }
                else if (stack.Peek() is not { } parent || reader.NamespaceURI == XhtmlNamespace && parent.Key.EndsWith(".div[0]", StringComparison.Ordinal))
                {
                    frame = null;
                }
                else if (char.IsUpper(reader.LocalName[0]))
                {
                    // <resource><Patient>...: the wrapper names the type; the element is its parent.
                    var type = parent.HoldsResource ? ModelInfo.ModelInspector.FindClassMapping(reader.LocalName) : null;
                    frame = new Frame(parent.Key, parent.XmlPath + step, type, parent.ChildCounts);
                    map.AddXmlPath(frame.Key, frame.XmlPath);
                }
                else
                {
                    parent.ChildCounts.TryGetValue(reader.LocalName, out var index);
                    parent.ChildCounts[reader.LocalName] = index + 1;
                    var key = $"{parent.Key}.{reader.LocalName}[{index}]";
                    var start = Offset(lineStarts, info) - 1;
                    if (parent.Type is { IsFhirPrimitive: true } && reader.LocalName == "value" && reader.NamespaceURI == FhirNamespace)
                    {
                        var open = (reader.LocalName, parent.Key, position, start);
                        if (reader.IsEmptyElement)
                            unreadable.Add(Complete(open, key, EndOfEmptyElement(xml, start)));
                        frame = new Frame(key, parent.XmlPath + step, null, new(StringComparer.Ordinal)) { Unreadable = open };
                    }
                    else
                    {
                        var (type, holdsResource) = ChildType(parent.Type, reader.LocalName);
                        frame = new Frame(key, parent.XmlPath + step, type, new(StringComparer.Ordinal)) { HoldsResource = holdsResource };
                    }
                    map.Add(frame.Key, position);
                    map.AddXmlPath(frame.Key, frame.XmlPath);
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
        return new XmlScan(map, unreadable);
    }

    /// <summary>The text with the unreadable elements blanked out (newlines kept), so every other element keeps its line and column.</summary>
    public static string Without(string xml, IReadOnlyList<UnreadableXmlElement> unreadable)
    {
        var text = xml.ToCharArray();
        foreach (var element in unreadable)
        {
            for (var i = element.Start; i < element.End; i++)
            {
                if (text[i] is not ('\n' or '\r'))
                    text[i] = ' ';
            }
        }
        return new string(text);
    }

    private static UnreadableXmlElement Complete((string Name, string ParentKey, SourcePosition Position, int Start) open, string key, int end) =>
        new(open.Name, key, open.ParentKey, open.Position, open.Start, end);

    /// <summary>The type of a child element (and whether it holds a resource), or null where the model does not know it.</summary>
    private static (ClassMapping? Type, bool HoldsResource) ChildType(ClassMapping? parent, string name)
    {
        if (parent is null || parent.IsFhirPrimitive)
            return (null, false);
        if (parent.FindMappedElementByName(name) is { } property)
        {
            if (property.Choice == ChoiceType.ResourceChoice)
                return (null, true);
            return (property.PropertyTypeMapping, false);
        }
        if (parent.FindMappedElementByChoiceName(name) is { Choice: ChoiceType.DatatypeChoice } choice)
        {
            var suffix = name[choice.Name.Length..];
            var type = choice.FhirTypeMappings.FirstOrDefault(t => string.Equals(t.Name, suffix, StringComparison.OrdinalIgnoreCase));
            return (type, false);
        }
        return (null, false);
    }

    private static string Prefix(string ns) => ns switch
    {
        "" => "",
        FhirNamespace => "f:",
        XhtmlNamespace => "h:",
        _ => "?:",
    };

    private static List<int> LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
                starts.Add(i + 1);
        }
        return starts;
    }

    /// <summary>The offset of the reader's position (the first character of the node's name).</summary>
    private static int Offset(List<int> lineStarts, IXmlLineInfo info) => lineStarts[info.LineNumber - 1] + info.LinePosition - 1;

    /// <summary>The offset just past the <c>/&gt;</c> of an empty element starting at <paramref name="start"/> (quoted attribute values skipped).</summary>
    private static int EndOfEmptyElement(string xml, int start)
    {
        char? quote = null;
        for (var i = start; i < xml.Length - 1; i++)
        {
            var c = xml[i];
            if (quote is { } q)
            {
                if (c == q)
                    quote = null;
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '/' && xml[i + 1] == '>')
            {
                return i + 2;
            }
        }
        return xml.Length;
    }
}
