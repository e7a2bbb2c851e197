using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.ElementModel;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// The walk reads a node's children from its POCO (<see cref="NodeChildren"/>) and asks "has it any child" without
/// making child nodes (<see cref="RawElements.HasChildOtherThan"/>): both must say what the SDK's
/// <see cref="PocoNode.Children"/> says, on every node of every example and conformance file, partial parses included.
/// </summary>
public sealed class NodeChildrenTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        var conformance = Path.GetFullPath(Path.Combine(FhirCaseService.TestSupport.RepositoryRoot.Path, "..", "shared", "conformance", "fhir-test-cases", "files"));
        var folders = new[] { FhirCaseService.TestSupport.RepositoryRoot.Combine("examples"), conformance };
        foreach (var file in folders.Where(Directory.Exists).SelectMany(f => Directory.EnumerateFiles(f, "*.json", SearchOption.AllDirectories)).Order(StringComparer.Ordinal))
            data.Add(file);
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Children_read_from_the_poco_are_the_sdk_child_nodes(string file)
    {
        ParsedInstance parsed;
        try
        {
            parsed = InstanceReader.Read(File.ReadAllText(file), ResourceFormat.Json);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException)
        {
            return;
        }
        if (parsed.Resource is null)
            return;
        var pending = new Stack<PocoNode>();
        pending.Push(parsed.Resource.ToPocoNode(ModelInfo.ModelInspector));
        var nodes = 0;
        while (pending.TryPop(out var node))
        {
            nodes++;
            var expected = node.Children().Select(g => (g.Name, Items: g.Where(i => i.Poco is not null).ToList())).ToList();
            var actual = new List<(string Name, List<PocoNode> Items)>();
            foreach (var element in NodeChildren.Of(node))
                actual.Add((element.Key, NodeChildren.Items(node, element.Key, element.Value)));

            Assert.Equal(expected.Select(g => g.Name), actual.Select(g => g.Name));
            for (var g = 0; g < expected.Count; g++)
            {
                Assert.Equal(expected[g].Items.Count, actual[g].Items.Count);
                for (var i = 0; i < expected[g].Items.Count; i++)
                {
                    // Record equality: the same type (PrimitiveNode or PocoNode), POCO, parent, index and name.
                    Assert.Equal(expected[g].Items[i], actual[g].Items[i]);
                    Assert.Same(expected[g].Items[i].Poco, actual[g].Items[i].Poco);
                    pending.Push(actual[g].Items[i]);
                }
            }
            Assert.Equal(expected.Count > 0, RawElements.HasChildOtherThan(node.Poco, except: null));
            Assert.Equal(expected.Any(g => g.Name != "id"), RawElements.HasChildOtherThan(node.Poco, "id"));
        }
        Assert.True(nodes > 0);
    }

    [Fact]
    public void A_primitive_with_only_an_id_extensions_or_an_overflow_has_children()
    {
        var plain = new FhirString("x");
        _ = plain.Extension; // the typed getter makes an empty list: still no child
        var withId = new FhirString("x") { ElementId = "a" };
        var withExtension = new FhirString("x");
        withExtension.Extension.Add(new Extension("http://example.org/x", new FhirString("y")));
        var withOverflow = new FhirString("x");
        withOverflow.SetValue("unknown", new FhirString("z"));
        foreach (var primitive in new[] { plain, withId, withExtension, withOverflow })
        {
            var node = primitive.ToPocoNode(ModelInfo.ModelInspector);
            Assert.Equal(node.Children().Any(), RawElements.HasChildOtherThan(primitive, except: null));
            Assert.Equal(node.Children().Any(c => c.Name != "id"), RawElements.HasChildOtherThan(primitive, "id"));
        }
        Assert.False(RawElements.HasChildOtherThan(plain, except: null));
        Assert.True(RawElements.HasChildOtherThan(withId, except: null));
        Assert.False(RawElements.HasChildOtherThan(withId, "id"));
        Assert.True(RawElements.HasChildOtherThan(withExtension, "id"));
        Assert.True(RawElements.HasChildOtherThan(withOverflow, "id"));
    }
}
