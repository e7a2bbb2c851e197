using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Terminology;

/// <summary>
/// A CodeSystem flattened for lookups: concepts by code, the is-a hierarchy (from nesting and from
/// parent/subsumedBy properties) and concept property values as text.
/// </summary>
internal sealed class CodeSystemIndex
{
    private static readonly string[] ParentProperties = ["parent", "subsumedBy"];

    private readonly Dictionary<string, IndexedConcept> _byCode;
    private readonly Dictionary<string, List<string>> _children;

    public CodeSystemIndex(CodeSystem codeSystem)
    {
        Url = codeSystem.Url ?? "";
        Content = codeSystem.Content;
        var concepts = new List<IndexedConcept>();
        _children = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        Flatten(codeSystem.Concept, parent: null, concepts);
        _byCode = concepts.DistinctBy(c => c.Code).ToDictionary(c => c.Code, StringComparer.Ordinal);
        Concepts = concepts;
        foreach (var concept in concepts)
        {
            foreach (var parent in ParentProperties.SelectMany(concept.PropertyValues))
            {
                AddChild(parent, concept.Code);
            }
        }
    }

    public string Url { get; }

    public CodeSystemContentMode? Content { get; }

    public IReadOnlyList<IndexedConcept> Concepts { get; }

    public IndexedConcept? Find(string code) => _byCode.GetValueOrDefault(code);

    /// <summary>All concepts below <paramref name="code"/> in the hierarchy (not the code itself).</summary>
    public IEnumerable<IndexedConcept> Descendants(string code)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { code };
        var pending = new Queue<string>([code]);
        while (pending.Count > 0)
        {
            foreach (var child in _children.GetValueOrDefault(pending.Dequeue()) ?? [])
            {
                if (seen.Add(child) && _byCode.TryGetValue(child, out var concept))
                {
                    pending.Enqueue(child);
                    yield return concept;
                }
            }
        }
    }

    public ExpandedConcept ToExpanded(IndexedConcept concept) => new(Url, concept.Code, concept.Display, concept.IsAbstract);

    private void Flatten(IEnumerable<CodeSystem.ConceptDefinitionComponent> level, string? parent, List<IndexedConcept> into)
    {
        foreach (var concept in level)
        {
            if (concept.Code is null)
            {
                continue;
            }
            var properties = concept.Property
                .Where(p => p.Code is not null && p.Value is not null)
                .GroupBy(p => p.Code!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Select(p => ValueText(p.Value)).ToArray(), StringComparer.Ordinal);
            into.Add(new IndexedConcept(concept.Code, concept.Display, properties));
            if (parent is not null)
            {
                AddChild(parent, concept.Code);
            }
            Flatten(concept.Concept, concept.Code, into);
        }
    }

    private void AddChild(string parent, string child)
    {
        if (!_children.TryGetValue(parent, out var list))
        {
            _children[parent] = list = [];
        }
        list.Add(child);
    }

    // Filters compare property values as text ("true", a code, a string).
    private static string ValueText(DataType? value) => value switch
    {
        Coding coding => coding.Code ?? "",
        FhirBoolean boolean => boolean.Value == true ? "true" : "false",
        PrimitiveType primitive => primitive.ToString() ?? "",
        _ => value?.ToString() ?? "",
    };
}

/// <summary>A CodeSystem concept with its property values as text.</summary>
internal sealed record IndexedConcept(string Code, string? Display, IReadOnlyDictionary<string, string[]> Properties)
{
    public bool IsAbstract => PropertyValues("notSelectable").Contains("true") || PropertyValues("abstract").Contains("true");

    public string[] PropertyValues(string property) => Properties.GetValueOrDefault(property) ?? [];
}
