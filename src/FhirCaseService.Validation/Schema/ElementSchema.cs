namespace FhirCaseService.Validation.Schema;

/// <summary>One allowed type of an element: the type code, the profiles the value must meet and, for references, the allowed targets.</summary>
public sealed record TypeReference(string Code, IReadOnlyList<string> Profiles, IReadOnlyList<string> TargetProfiles)
{
    /// <summary>ElementDefinition.type.aggregation of a Reference: how its target may be held ("contained", "bundled", "referenced"); empty: any way.</summary>
    public IReadOnlyList<string> Aggregation { get; init; } = [];

    public bool IsResource => Code is "Resource" or "DomainResource" || Hl7.Fhir.Model.ModelInfo.IsKnownResource(Code);
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
        ChildrenByName = children.GroupBy(c => c.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public string Id { get; }
    public string Path { get; }
    /// <summary>The element's name in the instance (value for value[x]).</summary>
    public string Name { get; }
    public bool IsChoice { get; }
    public int Min { get; }
    /// <summary>Null means unbounded (*).</summary>
    public int? Max { get; }
    public bool Repeats => Max is null or > 1;
    public IReadOnlyList<TypeReference> Types { get; }
    public IReadOnlyList<IElementValidator> Validators { get; }
    public IReadOnlyList<ElementSchema> Children { get; }
    public IReadOnlyDictionary<string, ElementSchema> ChildrenByName { get; }
    public SlicingSchema? Slicing { get; }
    /// <summary>"#Questionnaire.item": the element's definition is that other element's (recursive structures).</summary>
    public string? ContentReference { get; }
    public bool IsModifier { get; }
    public bool MustSupport { get; }
    public string? SliceName { get; }

    /// <summary>Min/max over the element's repetitions under one parent, compiled with the schema.</summary>
    public required Validators.CardinalityValidator Cardinality { get; init; }

    /// <summary>The declared type the instance type matches, or null when the instance type is not allowed here.</summary>
    public TypeReference? TypeFor(string instanceType)
    {
        foreach (var type in Types)
        {
            if (type.Code == instanceType)
                return type;
        }
        foreach (var type in Types)
        {
            // Resource and DomainResource accept any resource; System.String and friends are the primitive's own value.
            // Backbone components carry their path as type name (Observation.component).
            if (type.Code is "BackboneElement" or "Element" && instanceType.Contains('.', StringComparison.Ordinal))
                return type;
            if (type.Code is "Resource" or "DomainResource" && Hl7.Fhir.Model.ModelInfo.IsKnownResource(instanceType))
                return type;
            if (type.Code.StartsWith("http://hl7.org/fhirpath/System.", StringComparison.Ordinal))
                return type;
        }
        return null;
    }
}

public enum SlicingRules { Open, Closed, OpenAtEnd }

public enum DiscriminatorKind { Value, Pattern, Type, Profile, Exists }

public sealed record Discriminator(DiscriminatorKind Kind, string Path);

/// <summary>How an element's repetitions are divided into named slices.</summary>
public sealed record SlicingSchema(IReadOnlyList<Discriminator> Discriminators, SlicingRules Rules, bool Ordered, IReadOnlyList<ElementSchema> Slices);

/// <summary>Where an extension may be used (StructureDefinition.context): an element path or type, another extension's URL, or a FHIRPath expression.</summary>
public enum ExtensionContextKind { Element, Extension, FhirPath }

public sealed record ExtensionContext(ExtensionContextKind Kind, string Expression);

/// <summary>A compiled StructureDefinition.</summary>
public sealed class StructureSchema
{
    private readonly Dictionary<string, ElementSchema> _byPath;

    public StructureSchema(string canonical, string? version, string type, string kind, ElementSchema root, IEnumerable<ElementSchema> allElements)
    {
        Canonical = canonical;
        Version = version;
        Type = type;
        Kind = kind;
        Root = root;
        _byPath = new Dictionary<string, ElementSchema>(StringComparer.Ordinal);
        foreach (var element in allElements)
        {
            if (element.SliceName is null)
                _byPath.TryAdd(element.Path, element);
        }
    }

    public string Canonical { get; }
    public string? Version { get; }
    /// <summary>The type constrained (Observation, Quantity, Extension...).</summary>
    public string Type { get; }
    /// <summary>resource, complex-type, primitive-type or logical.</summary>
    public string Kind { get; }
    public ElementSchema Root { get; }

    /// <summary>For an extension definition: where it may be used (empty: no restriction stated).</summary>
    public IReadOnlyList<ExtensionContext> Contexts { get; init; } = [];

    /// <summary>For an extension definition: FHIRPath conditions on the element that carries it (contextInvariant).</summary>
    public IReadOnlyList<string> ContextInvariants { get; init; } = [];

    /// <summary>Finds the element a contentReference ("#Questionnaire.item") points to.</summary>
    public ElementSchema? FindByPath(string path) => _byPath.GetValueOrDefault(path);
}
