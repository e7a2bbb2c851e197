using FhirCaseService.Validation.Schema.Slicing;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Builders;

/// <summary>
/// ElementDefinition.slicing with its slices compiled: each slice's discriminators become <see cref="DiscriminatorTest"/>s
/// by reading, once, what the slice fixes at the discriminator's path (a fixed value or pattern, a binding, min/max for
/// exists, the types for type, the profiles for profile). Slicing by extension url alone also gets a url-to-slice table.
/// </summary>
public static class SlicingBuilder
{
    public static SlicingSchema Build(ElementDefinition.SlicingComponent slicing, IReadOnlyList<ElementSchema> slices)
    {
        var discriminators = slicing.Discriminator.Select(d => new Discriminator(ToKind(d.Type), d.Path ?? "$this")).ToList();
        var compiled = slices.Select(slice => new CompiledSlice(slice, discriminators.Select(d => Compile(slice, d)).OfType<DiscriminatorTest>().ToList())).ToList();
        var rules = slicing.Rules switch
        {
            ElementDefinition.SlicingRules.Closed => SlicingRules.Closed,
            ElementDefinition.SlicingRules.OpenAtEnd => SlicingRules.OpenAtEnd,
            _ => SlicingRules.Open,
        };
        return new SlicingSchema(discriminators, rules, slicing.Ordered ?? false, compiled);
    }

    private static DiscriminatorKind ToKind(ElementDefinition.DiscriminatorType? type) => type switch
    {
        ElementDefinition.DiscriminatorType.Pattern => DiscriminatorKind.Pattern,
        ElementDefinition.DiscriminatorType.Type => DiscriminatorKind.Type,
        ElementDefinition.DiscriminatorType.Profile => DiscriminatorKind.Profile,
        ElementDefinition.DiscriminatorType.Exists => DiscriminatorKind.Exists,
        _ => DiscriminatorKind.Value,
    };

    /// <summary>The test one discriminator makes for one slice; null when the slice admits every repetition on it.</summary>
    private static DiscriminatorTest? Compile(ElementSchema slice, Discriminator discriminator)
    {
        switch (discriminator.Kind)
        {
            case DiscriminatorKind.Value:
            case DiscriminatorKind.Pattern:
            {
                // Extension slices usually state their url only through the profile of their type.
                if (discriminator.Path == "url" && slice.Types.FirstOrDefault()?.Profiles.FirstOrDefault() is { } extensionUrl && FindAt(slice, "url") is null)
                    return new ExtensionUrlTest(extensionUrl);
                var target = FindAt(slice, discriminator.Path);
                if (target?.Validators.FirstOrDefault(v => v is FixedValueValidator or PatternValidator) is { } expectation)
                    return new ExpectedValueTest(new DiscriminatorPath(discriminator.Path), expectation);
                if (target?.Validators.OfType<BindingValidator>().FirstOrDefault() is { } binding)
                    return new BoundValueTest(new DiscriminatorPath(discriminator.Path), binding.ValueSet);
                return new UnmatchableTest($"slice {slice.SliceName} fixes nothing at {discriminator.Path}");
            }
            case DiscriminatorKind.Exists:
            {
                var target = FindAt(slice, discriminator.Path);
                if (target is null)
                    return null;
                if (target.Min > 0)
                    return new ExistsTest(new DiscriminatorPath(discriminator.Path), mustExist: true);
                return target.Max == 0 ? new ExistsTest(new DiscriminatorPath(discriminator.Path), mustExist: false) : null;
            }
            case DiscriminatorKind.Type:
                return CompileType(slice, discriminator.Path);
            case DiscriminatorKind.Profile:
            {
                var target = FindAt(slice, discriminator.Path) ?? slice;
                var throughResolve = discriminator.Path.Contains("resolve()", StringComparison.Ordinal);
                var profiles = target.Types.SelectMany(t => throughResolve ? t.TargetProfiles : t.Profiles).ToList();
                return profiles.Count == 0 ? null : new ProfileTest(new DiscriminatorPath(discriminator.Path), profiles);
            }
            default:
                return new UnmatchableTest($"discriminator kind {discriminator.Kind} is not supported");
        }
    }

    /// <summary>
    /// The types a type discriminator admits; an abstract type narrowed by profiles admits the profiles' types instead.
    /// Through resolve(), each target profile admits the type it constrains, as the reference validator reads the root
    /// of the target's definition: a core resource type's definition by its name, any other profile, HL7's own in the
    /// core namespace included (.../StructureDefinition/vitalsigns), by the type it constrains.
    /// </summary>
    private static DiscriminatorTest? CompileType(ElementSchema slice, string path)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        var typeProfiles = new List<string>();
        if (path.EndsWith("resolve()", StringComparison.Ordinal))
        {
            var reference = FindAt(slice, path[..^"resolve()".Length].TrimEnd('.')) ?? slice;
            foreach (var profile in reference.Types.SelectMany(t => t.TargetProfiles))
            {
                if (profile.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal) && ResourceTypeNames.IsResourceOrBase(profile[SchemaRepository.CoreBase.Length..]))
                    types.Add(profile[SchemaRepository.CoreBase.Length..]);
                else
                    typeProfiles.Add(profile);
            }
            return types.Count == 0 && typeProfiles.Count == 0 ? null : new TypeTest(new DiscriminatorPath(path), types, typeProfiles);
        }
        types.UnionWith((FindAt(slice, path) ?? slice).Types.Select(t => t.Code));
        if (types.Count == 0)
            return null;
        if (types.Contains("Resource") || types.Contains("DomainResource"))
        {
            var element = FindAt(slice, path) ?? slice;
            foreach (var type in element.Types.Where(t => t.Code is "Resource" or "DomainResource" && t.Profiles.Count > 0))
            {
                types.Remove(type.Code);
                typeProfiles.AddRange(type.Profiles);
            }
        }
        return new TypeTest(new DiscriminatorPath(path), types, typeProfiles);
    }

    /// <summary>
    /// The element a discriminator path names inside a slice ("code.coding.system", "extension('url').value"), when
    /// the snapshot spells it out; null when the path leaves what the snapshot describes.
    /// </summary>
    private static ElementSchema? FindAt(ElementSchema slice, string path)
    {
        if (path is "$this" or "")
            return slice;
        var current = slice;
        foreach (var segment in SplitPath(path))
        {
            // "$this.resource" is "resource": $this names the item itself.
            // ofType(X) narrows a choice element to one of its types: the element itself is the same.
            if (segment == "$this" || segment.StartsWith("ofType(", StringComparison.Ordinal) && segment.EndsWith(')'))
                continue;
            if (segment.StartsWith("extension('", StringComparison.Ordinal) && segment.EndsWith("')", StringComparison.Ordinal))
            {
                var url = segment["extension('".Length..^2];
                var extensionSlice = current.ChildrenByName.GetValueOrDefault("extension")?.Slicing?.Slices
                    .FirstOrDefault(s => s.Types.Any(t => t.Profiles.Contains(url)));
                if (extensionSlice is null)
                    return null;
                current = extensionSlice;
                continue;
            }
            if (segment.Contains('(', StringComparison.Ordinal))
                return null;
            // A path that steps through a sliced element reads the element's mandatory slice, where the expected value
            // lives (R4 bp: component slices discriminated by code.coding.code, fixed only in coding:SBPCode), as
            // the reference validator's discriminator walk does.
            if (current.Slicing?.Slices.FirstOrDefault(s => s.Min > 0) is { } mandatorySlice)
                current = mandatorySlice;
            if (!current.ChildrenByName.TryGetValue(segment, out var next))
                return null;
            current = next;
        }
        return current;
    }

    /// <summary>Splits a FHIRPath path on the dots outside quotes (extension URLs contain dots).</summary>
    private static List<string> SplitPath(string path)
    {
        var segments = new List<string>();
        var start = 0;
        var quoted = false;
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] == '\'')
                quoted = !quoted;
            else if (path[i] == '.' && !quoted)
            {
                segments.Add(path[start..i]);
                start = i + 1;
            }
        }
        segments.Add(path[start..]);
        return segments;
    }
}
