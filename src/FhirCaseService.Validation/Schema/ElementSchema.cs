using System.Collections.Frozen;
using FhirCaseService.Validation.Schema.Validators;
namespace FhirCaseService.Validation.Schema;

/// <summary>One allowed type of an element: the type code, the profiles the value must meet and, for references, the allowed targets.</summary>
public sealed record TypeReference(string Code, IReadOnlyList<string> Profiles, IReadOnlyList<string> TargetProfiles)
{
    /// <summary>For a Reference: its targetProfiles and aggregation compiled (null for any other type).</summary>
    public Validators.ReferenceValidator? Reference { get; init; }

    public bool IsResource => Code is "Resource" or "DomainResource" || Hl7.Fhir.Model.ModelInfo.IsKnownResource(Code);

    /// <summary>What a node of this type is checked against after its element's own rules, compiled (<see cref="Validators.TypeLink"/>).</summary>
    public required Validators.TypeLink Link { get; init; }
}

/// <summary>
/// One compiled ElementDefinition of a snapshot: immutable, shared across threads. Checks that concern the value of a
/// single node are <see cref="Validators"/>; what concerns its children (cardinality, slicing, unknown elements) is
/// read from <see cref="Children"/> by the walker, which visits each instance node once.
/// </summary>
public sealed class ElementSchema
{
    public ElementSchema(string id, string path, int min, int? max, IReadOnlyList<TypeReference> types,
        IReadOnlyList<IElementValidator> validators, IReadOnlyList<ElementSchema> children, SlicingSchema? slicing,
        string? contentReference, bool isModifier, bool mustSupport, string? sliceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (min < 0 || max < min)
            throw new ArgumentException($"Element {id} has an impossible cardinality {min}..{max}.");
        Id = id;
        Path = path;
        var last = path[(path.LastIndexOf('.') + 1)..];
        IsChoice = last.EndsWith("[x]", StringComparison.Ordinal);
        Name = IsChoice ? last[..^3] : last;
        Min = min;
        Max = max;
        Types = types;
        Validators = validators;
        Children = children;
        Slicing = slicing;
        ContentReference = contentReference;
        IsModifier = isModifier;
        MustSupport = mustSupport;
        SliceName = sliceName;
        ChildrenByName = children.GroupBy(c => c.Name, StringComparer.Ordinal).ToFrozenDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        ChildSlots = children.Select(c => slots.TryGetValue(c.Name, out var slot) ? slot : slots[c.Name] = slots.Count).ToArray();
        SlotByName = slots.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public string Id { get; }
    public string Path { get; }
    /// <summary>The element's name in the instance (value for value[x]).</summary>
    public string Name { get; }
    public bool IsChoice { get; }
    public int Min { get; }
    /// <summary>Null means unbounded (*).</summary>
    public int? Max { get; }
    /// <summary>
    /// Whether the element is a list, which decides whether its locations carry an index: by the base definition's max
    /// when the snapshot states it (a profile's 0..1 on Composition.section is still section[0], as the reference
    /// validator writes it), else by this element's own max.
    /// </summary>
    public bool Repeats => RepeatsInBase ?? Max is null or > 1;

    /// <summary>ElementDefinition.base.max read as "repeats", or null when the snapshot does not say.</summary>
    public bool? RepeatsInBase { get; init; }
    public IReadOnlyList<TypeReference> Types { get; }
    public IReadOnlyList<IElementValidator> Validators { get; }
    public IReadOnlyList<ElementSchema> Children { get; }
    public IReadOnlyDictionary<string, ElementSchema> ChildrenByName { get; }

    /// <summary>
    /// The name table of the element's children, compiled: each distinct child name has a slot, so the walker sorts an
    /// instance node's children into an array by one lookup each, and a name without a slot is an unknown element.
    /// </summary>
    public FrozenDictionary<string, int> SlotByName { get; }

    /// <summary>For each of <see cref="Children"/>, the slot its name has in <see cref="SlotByName"/>.</summary>
    public IReadOnlyList<int> ChildSlots { get; }

    /// <summary>
    /// The element a contentReference names, resolved when the schema was compiled (the element itself otherwise): its
    /// children and types are what the instance node is checked against.
    /// </summary>
    public ElementSchema Content => _content ?? this;

    private ElementSchema? _content;

    /// <summary>Links a contentReference to its target; called once by the compiler before the schema is shared.</summary>
    internal void ResolveContentReference(ElementSchema target)
    {
        if (_content is not null)
            throw new InvalidOperationException($"Element {Id} has its contentReference resolved already.");
        _content = target;
    }
    public SlicingSchema? Slicing { get; }
    /// <summary>"#Questionnaire.item": the element's definition is that other element's (recursive structures).</summary>
    public string? ContentReference { get; }
    public bool IsModifier { get; }
    public bool MustSupport { get; }
    public string? SliceName { get; }

    /// <summary>Min/max over the element's repetitions under one parent, compiled with the schema.</summary>
    public required Validators.CardinalityValidator Cardinality { get; init; }

    /// <summary>The allowed types compiled into a lookup from instance type to declared type.</summary>
    public required Validators.TypeChoiceValidator TypeChoice { get; init; }

    /// <summary>The declared type the instance type matches, or null when the instance type is not allowed here.</summary>
    public TypeReference? TypeFor(string instanceType) => TypeChoice.Resolve(instanceType);

    /// <summary>
    /// What a node of this element is checked against after the element's own rules (<see cref="TypeReference.Link"/> of
    /// the type it matches), or null when its type is not allowed here. A resource is always walked as one, against the
    /// matching type's profiles if any. A type matched through a wildcard (BackboneElement, System.String) links by the
    /// instance's own type.
    /// </summary>
    public Validators.TypeLink? LinkFor(Hl7.Fhir.Model.Base instance)
    {
        var type = TypeChoice.Resolve(instance.TypeName, out var exact);
        if (instance is Hl7.Fhir.Model.Resource)
        {
            return type switch
            {
                { Link: ResourceLink link } => link,
                null => Path == BundleEntryResource ? ResourceLink.UntypedBundleEntry : ResourceLink.Untyped,
                _ => new ResourceLink(type.Profiles, Path == BundleEntryResource),
            };
        }
        if (type is null)
            return null;
        return exact ? type.Link
            : type.Profiles.Count == 0 ? TypeLink.PlainFor(instance.TypeName)
            : TypeLink.For(instance.TypeName, type.Profiles, type.Reference, isBundleEntryResource: false);
    }

    internal const string BundleEntryResource = "Bundle.entry.resource";
}

public enum SlicingRules { Open, Closed, OpenAtEnd }

public enum DiscriminatorKind { Value, Pattern, Type, Profile, Exists }

public sealed record Discriminator(DiscriminatorKind Kind, string Path);

/// <summary>One slice with its discriminators compiled; no tests: every repetition belongs to it (first come, first served).</summary>
public sealed record CompiledSlice(ElementSchema Element, IReadOnlyList<Slicing.DiscriminatorTest> Tests);

/// <summary>How an element's repetitions are divided into named slices, with the tests that assign them compiled.</summary>
public sealed class SlicingSchema
{
    public SlicingSchema(IReadOnlyList<Discriminator> discriminators, SlicingRules rules, bool ordered, IReadOnlyList<CompiledSlice> compiledSlices)
    {
        Discriminators = discriminators;
        Rules = rules;
        Ordered = ordered;
        CompiledSlices = compiledSlices;
        Slices = compiledSlices.Select(s => s.Element).ToList();
        SliceNames = string.Join(", ", Slices.Select(s => s.SliceName));
        // Slicing by extension url alone (the usual extension slicing): a repetition finds its slice by one table lookup.
        if (compiledSlices.Count > 0 && compiledSlices.All(s => s.Tests is [Slicing.ExtensionUrlTest]))
        {
            var byUrl = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < compiledSlices.Count; i++)
                byUrl.TryAdd(((Slicing.ExtensionUrlTest)compiledSlices[i].Tests[0]).Url, i);
            SliceByUrl = byUrl.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    public IReadOnlyList<Discriminator> Discriminators { get; }
    public SlicingRules Rules { get; }
    public bool Ordered { get; }
    public IReadOnlyList<CompiledSlice> CompiledSlices { get; }
    public IReadOnlyList<ElementSchema> Slices { get; }
    /// <summary>"a, b, c": the slice names as messages list them.</summary>
    public string SliceNames { get; }
    /// <summary>For slicing by extension url only: the index of the (first) slice for each url.</summary>
    public FrozenDictionary<string, int>? SliceByUrl { get; }
}

/// <summary>Where an extension may be used (StructureDefinition.context): an element path or type, another extension's URL, or a FHIRPath expression.</summary>
public enum ExtensionContextKind { Element, Extension, FhirPath }

public sealed record ExtensionContext(ExtensionContextKind Kind, string Expression);

/// <summary>A compiled StructureDefinition.</summary>
public sealed class StructureSchema
{
    public StructureSchema(string canonical, string? version, string type, string kind, ElementSchema root)
    {
        Canonical = canonical;
        Version = version;
        Type = type;
        Kind = kind;
        Root = root;
    }

    public string Canonical { get; }
    public string? Version { get; }
    /// <summary>The type constrained (Observation, Quantity, Extension...).</summary>
    public string Type { get; }
    /// <summary>resource, complex-type, primitive-type or logical.</summary>
    public string Kind { get; }
    public ElementSchema Root { get; }

    /// <summary>For an extension definition: where it may be used (context and contextInvariant), compiled; null for other types.</summary>
    public Validators.ExtensionContextValidator? Placement { get; init; }
}
