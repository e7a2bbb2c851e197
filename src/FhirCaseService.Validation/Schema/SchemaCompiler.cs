using FhirCaseService.Validation.Schema.Builders;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema;

/// <summary>
/// Turns a StructureDefinition snapshot into an immutable <see cref="StructureSchema"/>: the flat element list becomes a
/// tree (children by path, slices under their entry element) and each element's rules become validators, one builder
/// per ElementDefinition field.
/// </summary>
public static class SchemaCompiler
{
    private static readonly IReadOnlyList<IValidatorBuilder> Builders =
    [
        new FixedValueBuilder(),
        new PatternBuilder(),
        new BindingBuilder(),
        new InvariantBuilder(),
        new MaxLengthBuilder(),
        new MinLengthBuilder(),
        new AttachmentSizeBuilder(),
        new NarrativeLanguageBuilder(),
        new NarrativeLinkBuilder(),
        new ValueRangeBuilder(),
        new ValuePresenceBuilder(),
    ];

    private sealed class Draft(ElementDefinition definition)
    {
        public ElementDefinition Definition { get; } = definition;
        public string Path => Definition.Path ?? "";
        public List<Draft> Children { get; } = [];
        public List<Draft> Slices { get; } = [];
    }

    public static StructureSchema Compile(StructureDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var elements = definition.Snapshot?.Element;
        if (elements is null || elements.Count == 0)
            throw new ArgumentException($"StructureDefinition {definition.Url} has no snapshot to compile.", nameof(definition));

        var root = new Draft(elements[0]);
        var stack = new Stack<Draft>();
        stack.Push(root);
        foreach (var element in elements.Skip(1))
        {
            while (stack.Count > 1 && !(element.Path ?? "").StartsWith(stack.Peek().Path + ".", StringComparison.Ordinal))
                stack.Pop();
            var parent = stack.Peek();
            var draft = new Draft(element);
            var entry = element.SliceName is null ? null : parent.Children.LastOrDefault(c => c.Path == element.Path);
            if (entry is not null)
                entry.Slices.Add(draft);
            else
                parent.Children.Add(draft);
            stack.Push(draft);
        }

        var all = new List<ElementSchema>();
        var compiledRoot = Build(root, all, definition.Url ?? "", isSlice: false);
        ResolveContentReferences(all);
        var kind = definition.Kind?.ToString() switch
        {
            "Resource" => "resource",
            "ComplexType" => "complex-type",
            "PrimitiveType" => "primitive-type",
            _ => "logical",
        };
        var type = definition.Type ?? root.Path;
        return new StructureSchema(definition.Url ?? "", definition.Version, type, kind, compiledRoot)
        {
            Placement = ExtensionContextBuilder.Build(definition, type),
        };
    }

    private static ElementSchema Build(Draft draft, List<ElementSchema> all, string canonical, bool isSlice)
    {
        var definition = draft.Definition;
        var validators = new List<IElementValidator>();
        foreach (var builder in Builders)
            validators.AddRange(builder is IProfileAwareValidatorBuilder aware ? aware.Build(definition, canonical) : builder.Build(definition));
        var children = draft.Children.Select(c => Build(c, all, canonical, isSlice: false)).ToList();
        SlicingSchema? slicing = null;
        if (definition.Slicing is { } slicingDefinition && draft.Slices.Count > 0)
        {
            slicing = SlicingBuilder.Build(slicingDefinition, draft.Slices.Select(s => Build(s, all, canonical, isSlice: true)).ToList());
        }
        var isBundleEntryResource = draft.Path == ElementSchema.BundleEntryResource;
        var types = definition.Type.Select(t =>
        {
            var profiles = t.Profile.OfType<string>().ToList();
            var reference = ReferenceBuilder.Build(t);
            return new TypeReference(t.Code ?? "", profiles, t.TargetProfile.OfType<string>().ToList())
            {
                Reference = reference,
                Link = Validators.TypeLink.For(t.Code ?? "", profiles, reference, isBundleEntryResource),
            };
        }).ToList();
        var max = definition.Max is null or "*" ? (int?)null : int.Parse(definition.Max, System.Globalization.CultureInfo.InvariantCulture);
        var min = definition.Min ?? 0;
        max = max is int m && m < min ? min : max;
        var schema = new ElementSchema(
            definition.ElementId ?? draft.Path, draft.Path, min, max, types, validators, children, slicing,
            definition.ContentReference, definition.IsModifier ?? false, definition.MustSupport ?? false, definition.SliceName)
        {
            Cardinality = CardinalityBuilder.Build(definition, min, max, canonical, isSlice),
            RepeatsInBase = definition.Base?.Max is { Length: > 0 } baseMax ? baseMax != "1" && baseMax != "0" : null,
            TypeChoice = new Validators.TypeChoiceValidator(draft.Path, types),
        };
        all.Add(schema);
        return schema;
    }

    /// <summary>
    /// contentReference ("#Questionnaire.item") resolved once, to the element of the same snapshot with that path: a
    /// recursive structure becomes a link back up the tree. A reference to a path the snapshot lacks stays unresolved
    /// and the element is checked as written.
    /// </summary>
    private static void ResolveContentReferences(List<ElementSchema> all)
    {
        var byPath = new Dictionary<string, ElementSchema>(StringComparer.Ordinal);
        foreach (var element in all)
        {
            if (element.SliceName is null)
                byPath.TryAdd(element.Path, element);
        }
        foreach (var element in all)
        {
            if (element.ContentReference is { } reference && byPath.TryGetValue(reference[(reference.IndexOf('#') + 1)..], out var target))
                element.ResolveContentReference(target);
        }
    }
}
