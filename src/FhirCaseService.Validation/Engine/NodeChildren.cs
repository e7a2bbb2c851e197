using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// A node's children as the walk sorts them: what <see cref="PocoNode.Children"/> gives (the POCO's elements, a
/// DynamicDataType's resourceType hidden), read from the POCO's own element enumeration, and each element's items as
/// the nodes the SDK's child nodes enumerate (same POCO, parent, index and name; primitives as <see cref="PrimitiveNode"/>).
/// </summary>
/// <remarks>
/// Children() wraps every element in a child node (a list node copies its list) through a LINQ Select and a closure,
/// and the walk then enumerated each child node again for its items: a large share of the walk's allocation on big
/// Bundles (issue 11). Tests compare this with Children() on every node of the examples.
/// </remarks>
internal static class NodeChildren
{
    /// <summary>The element name and raw value (one POCO, or a list) of each child of <paramref name="node"/>, in the SDK's order.</summary>
    public static Enumerable Of(PocoNode node) => new(node.Poco);

    /// <summary>
    /// The items of one child element with a POCO (a null list item, which the parser has reported, is left out):
    /// the nodes Children()'s child node for this element enumerates.
    /// </summary>
    public static List<PocoNode> Items(PocoNode parent, string name, object value)
    {
        switch (value)
        {
            case PrimitiveType primitive:
                return [new PrimitiveNode(primitive, parent, null, name)];
            case Base single:
                return [new PocoNode(single, parent, null, name)];
            case IReadOnlyList<PrimitiveType?> primitives:
            {
                var items = new List<PocoNode>(primitives.Count);
                for (var i = 0; i < primitives.Count; i++)
                {
                    if (primitives[i] is { } item)
                        items.Add(new PrimitiveNode(item, parent, i, name));
                }
                return items;
            }
            case IReadOnlyList<Base?> pocos:
            {
                var items = new List<PocoNode>(pocos.Count);
                for (var i = 0; i < pocos.Count; i++)
                {
                    if (pocos[i] is { } item)
                        items.Add(new PocoNode(item, parent, i, name));
                }
                return items;
            }
            default:
                throw new InvalidOperationException("Unexpected element in child list");
        }
    }

    public readonly struct Enumerable(Base poco)
    {
        public Enumerator GetEnumerator() => new(poco);
    }

    public struct Enumerator(Base poco)
    {
        private readonly IEnumerator<KeyValuePair<string, object>> _elements = poco.EnumerateElements().GetEnumerator();
        private readonly bool _hidesResourceType = poco is DynamicDataType;

        public KeyValuePair<string, object> Current { get; private set; }

        public bool MoveNext()
        {
            while (_elements.MoveNext())
            {
                var element = _elements.Current;
                // As Children(): a custom type's resourceType is serialized as its type, not as a child.
                if (_hidesResourceType && element is { Key: "resourceType", Value: PrimitiveType })
                    continue;
                Current = element;
                return true;
            }
            return false;
        }

        public readonly void Dispose() => _elements.Dispose();
    }
}
