using System.Collections;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// A search parameter expression of the plain shapes most core parameters have, evaluated by walking the POCO instead
/// of through the FHIRPath engine (which costs tens of microseconds per expression and was the largest CPU item of a
/// write's preparation in issue 11's profile): a union of branches, each <c>Type.a.b.c</c>, optionally ending in
/// <c>.where(resolve() is Target)</c>, or <c>(Type.a.b as Kind)</c>. <see cref="TryParse"/> accepts nothing else, so
/// every other expression keeps its compiled FHIRPath. FHIRPath's <c>|</c> drops values equal to one another; for a
/// union the indexer drops equal index entries instead (<see cref="IsUnion"/>), which can only leave out a row that
/// repeats another row of the same version exactly, so no search answers differently. ResourceIndexerTests checks the
/// entries against FHIRPath's for every core parameter over the examples.
/// </summary>
internal sealed class SimplePath
{
    private readonly Branch[] _branches;

    private SimplePath(Branch[] branches) => _branches = branches;

    /// <summary>More than one branch: the indexer removes duplicate entries, as FHIRPath's union removes equal values.</summary>
    public bool IsUnion => _branches.Length > 1;

    /// <summary>The fast path of an expression (already narrowed to <paramref name="resourceType"/>) split into its top-level union branches, or null.</summary>
    public static SimplePath? TryParse(string resourceType, IReadOnlyList<string> branches)
    {
        var parsed = new List<Branch>(branches.Count);
        foreach (var text in branches)
        {
            var branch = text.Trim();
            string? target = null;
            Type? kind = null;
            if (branch.StartsWith('(') && branch.EndsWith(')'))
            {
                branch = branch[1..^1].Trim();
                var asAt = branch.IndexOf(" as ", StringComparison.Ordinal);
                if (asAt < 0)
                    return null;
                var kindName = branch[(asAt + 4)..].Trim();
                if (kindName.Length == 0 || !char.IsAsciiLetterUpper(kindName[0]) || ModelInfo.GetTypeForFhirType(kindName) is not { } clr)
                    return null;
                kind = clr;
                branch = branch[..asAt].Trim();
            }
            const string where = ".where(resolve() is ";
            var filter = branch.IndexOf(where, StringComparison.Ordinal);
            if (filter >= 0)
            {
                if (!branch.EndsWith(')') || kind is not null)
                    return null;
                target = branch[(filter + where.Length)..^1];
                if (!ModelInfo.IsKnownResource(target))
                    return null;
                branch = branch[..filter];
            }
            var segments = branch.Split('.');
            if (segments.Length < 2 || segments[0] != resourceType)
                return null;
            for (var i = 1; i < segments.Length; i++)
                if (!IsElementName(segments[i]))
                    return null;
            parsed.Add(new Branch(segments[1..], target, kind));
        }
        return parsed.Count == 0 ? null : new SimplePath([.. parsed]);
    }

    /// <summary>A lower-case FHIR element name (no function, no choice suffix, no keyword of FHIRPath's).</summary>
    private static bool IsElementName(string segment) =>
        segment.Length > 0 && char.IsAsciiLetterLower(segment[0]) && segment.All(char.IsAsciiLetterOrDigit)
        && segment is not ("as" or "is" or "and" or "or" or "xor" or "implies" or "div" or "mod" or "in" or "contains" or "true" or "false");

    public List<Base> Evaluate(Resource resource)
    {
        var result = new List<Base>();
        foreach (var branch in _branches)
        {
            var current = new List<Base> { resource };
            foreach (var name in branch.Path)
            {
                var next = new List<Base>();
                foreach (var node in current)
                {
                    if (!node.TryGetValue(name, out var value) || value is null)
                        continue;
                    if (value is Base single)
                        next.Add(single);
                    else if (value is IEnumerable items)
                        foreach (var item in items)
                            if (item is Base element)
                                next.Add(element);
                }
                current = next;
                if (current.Count == 0)
                    break;
            }
            if (branch.Target is { } target)
                current.RemoveAll(node => !Resolves(node, target));
            // "x as Kind": the values of that type (or one derived from it, as FHIRPath's type test).
            if (branch.Kind is { } kind)
                current.RemoveAll(node => !kind.IsInstanceOfType(node));
            result.AddRange(current);
        }
        return result;
    }

    /// <summary>What <c>resolve() is Target</c> answers in <see cref="ResourceIndexer"/>: the type the literal reference names.</summary>
    private static bool Resolves(Base node, string target)
    {
        var literal = node switch
        {
            ResourceReference r => r.Reference,
            PrimitiveType { JsonValue: string s } => s,
            _ => null,
        };
        return literal is not null && ReferenceParser.Split(literal).Type == target;
    }

    private sealed record Branch(string[] Path, string? Target, Type? Kind);
}
