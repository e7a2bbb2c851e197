using System.Xml;
using FhirCaseService.Validation.Instance;

namespace FhirCaseService.Validation.Tests.Reading;

/// <summary>
/// txt-1 and txt-2 share one parse of a div (<see cref="NarrativeXhtml"/>): the tree is reused only for the very same
/// string object, never for equal text held elsewhere, and a text that is not well-formed is refused every time.
/// </summary>
public sealed class NarrativeXhtmlTests
{
    private const string Div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>text</p></div>";

    [Fact]
    public void TheSameStringIsParsedOnce()
    {
        var text = new string(Div.AsSpan());
        Assert.Same(NarrativeXhtml.Parse(text), NarrativeXhtml.Parse(text));
    }

    [Fact]
    public void EqualTextInAnotherStringIsParsedAgain()
    {
        var first = new string(Div.AsSpan());
        var second = new string(Div.AsSpan());
        var tree = NarrativeXhtml.Parse(first);
        Assert.NotSame(tree, NarrativeXhtml.Parse(second));
        Assert.Equal(tree.ToString(), NarrativeXhtml.Parse(second).ToString());
    }

    [Fact]
    public void TextThatIsNotWellFormedThrowsEachTime()
    {
        var broken = new string("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>text</div>".AsSpan());
        Assert.Throws<XmlException>(() => NarrativeXhtml.Parse(broken));
        Assert.Throws<XmlException>(() => NarrativeXhtml.Parse(broken));
    }

    [Fact]
    public void AnotherDivInBetweenIsNotConfused()
    {
        var first = new string(Div.AsSpan());
        var other = new string("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>other</p></div>".AsSpan());
        Assert.Equal("text", NarrativeXhtml.Parse(first).Value);
        Assert.Equal("other", NarrativeXhtml.Parse(other).Value);
        Assert.Equal("text", NarrativeXhtml.Parse(first).Value);
    }
}
