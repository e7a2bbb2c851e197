using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using FhirCaseService.Validation.Instance;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// <see cref="NarrativeXhtml.ParseSized"/> reads a div with a reader sized to the text instead of XElement.Parse's
/// 4 KiB buffer: where it gives a tree, the tree must be XElement.Parse's, node for node; where XElement.Parse throws,
/// it must give nothing, so the usual parse throws its usual message.
/// </summary>
public sealed class NarrativeSizedParseTests
{
    private const string Ns = "http://www.w3.org/1999/xhtml";

    public static TheoryData<string> OddTexts() => new()
    {
        $"<div xmlns=\"{Ns}\"><p>text</p></div>",
        $"  \r\n<div xmlns=\"{Ns}\">\r\n  <p>a\r\nb</p>\n\t<p>c</p>  </div>\n ",
        $"<div xmlns=\"{Ns}\" xml:space=\"preserve\">  <p>  a  </p>  <pre xml:space=\"preserve\">\r\n x \r\n</pre></div>",
        $"<div xmlns=\"{Ns}\"><p title=\"a\tb\r\nc  d\">x</p><p title='&lt;&amp;&gt;&quot;&apos;'>&lt;b&gt; &amp; y</p></div>",
        $"<div xmlns=\"{Ns}\"><table><tr><td>1</td><td> </td></tr></table><img src=\"x.png\"/><br/></div>",
        $"<div xmlns=\"{Ns}\" xmlns:x=\"urn:x\"><x:p>foreign</x:p><p xml:lang=\"en\">a</p></div>",
        "<div><p>no namespace</p></div>",
        "<p xmlns=\"http://www.w3.org/1999/xhtml\">not a div</p>",
        $"<div xmlns=\"{Ns}\">caf\u00e9 \ud83d\ude00 \u202f\u00a0</div>",
        $"<div xmlns=\"{Ns}\"><p>a</p></div><div xmlns=\"{Ns}\"/>",
        $"text<div xmlns=\"{Ns}\"/>",
        $"<div xmlns=\"{Ns}\"/>trailing",
        $"<div xmlns=\"{Ns}\"/><!-- after -->",
        $"<!-- before --><div xmlns=\"{Ns}\"/>",
        $"<?xml version=\"1.0\"?><div xmlns=\"{Ns}\"/>",
        $"<?pi x?><div xmlns=\"{Ns}\"/>",
        $"<!DOCTYPE div><div xmlns=\"{Ns}\"/>",
        $"<div xmlns=\"{Ns}\"><![CDATA[<p>]]></div>",
        $"<div xmlns=\"{Ns}\">&nbsp;</div>",
        $"<div xmlns=\"{Ns}\">&#0;</div>",
        $"<div xmlns=\"{Ns}\">&#x1F600;&#233;</div>",
        $"<div xmlns=\"{Ns}\">\u0001</div>",
        $"<div xmlns=\"{Ns}\">\ud83d</div>",
        $"<div xmlns=\"{Ns}\">\ufffe</div>",
        $"\ufeff<div xmlns=\"{Ns}\"/>",
        $"<div xmlns=\"{Ns}\"><y:p>undeclared prefix</y:p></div>",
        $"<div xmlns=\"{Ns}\"><p>unclosed</div>",
        $"<div xmlns=\"{Ns}\" id=\"a\" id=\"b\"/>",
        $"<div xmlns=\"{Ns}\"><p a=\"1\" b='2' >x</p ></div >",
        "",
        "   ",
        "plain text",
        "<div",
    };

    [Theory]
    [MemberData(nameof(OddTexts))]
    public void Odd_texts_parse_as_XElement_Parse_parses_them(string text) => AssertSameAsXElementParse(text);

    [Fact]
    public void Every_div_of_the_examples_and_conformance_files_parses_as_XElement_Parse_parses_it()
    {
        var conformance = Path.GetFullPath(Path.Combine(FhirCaseService.TestSupport.RepositoryRoot.Path, "..", "shared", "conformance", "fhir-test-cases", "files"));
        var folders = new[] { FhirCaseService.TestSupport.RepositoryRoot.Combine("examples"), conformance };
        var divs = 0;
        var sized = 0;
        foreach (var file in folders.Where(Directory.Exists).SelectMany(f => Directory.EnumerateFiles(f, "*.json", SearchOption.AllDirectories)))
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(File.ReadAllText(file));
            }
            catch (JsonException)
            {
                continue;
            }
            using (document)
            {
                foreach (var div in Divs(document.RootElement))
                {
                    divs++;
                    if (AssertSameAsXElementParse(div))
                        sized++;
                }
            }
        }
        Assert.True(divs > 100, $"only {divs} divs found");
        Assert.True(sized > divs / 2, $"only {sized} of {divs} divs took the sized read");
    }

    /// <summary>Asserts the sized read's tree is XElement.Parse's, or that it declines where XElement.Parse throws; true when it gave a tree.</summary>
    private static bool AssertSameAsXElementParse(string text)
    {
        XElement? expected;
        try
        {
            expected = XElement.Parse(text);
        }
        catch (XmlException)
        {
            expected = null;
        }
        var actual = NarrativeXhtml.ParseSized(text);
        if (expected is null)
        {
            Assert.Null(actual);
            return false;
        }
        if (actual is null)
            return false;
        Assert.True(XNode.DeepEquals(expected, actual), $"{text}\n--- XElement.Parse\n{expected}\n--- sized\n{actual}");
        Assert.Equal(expected.ToString(SaveOptions.DisableFormatting), actual.ToString(SaveOptions.DisableFormatting));
        Assert.Equal(Describe(expected), Describe(actual));
        return true;
    }

    /// <summary>Every node with its kind, name and value, and every attribute (namespace declarations included), in order.</summary>
    private static string Describe(XElement root) =>
        string.Join("\n", root.DescendantNodesAndSelf().Select(n => n switch
        {
            XElement e => $"E {e.Name} [{string.Join(" ", e.Attributes().Select(a => $"{a.Name}={a.Value}|{a.IsNamespaceDeclaration}"))}]",
            XText t => $"{t.NodeType} '{t.Value}'",
            _ => $"{n.NodeType} {n}",
        }));

    private static IEnumerable<string> Divs(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "div" && property.Value.ValueKind == JsonValueKind.String)
                        yield return property.Value.GetString()!;
                    else
                        foreach (var div in Divs(property.Value))
                            yield return div;
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    foreach (var div in Divs(item))
                        yield return div;
                break;
        }
    }
}
