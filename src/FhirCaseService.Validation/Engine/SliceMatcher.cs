using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Assigns the repetitions of a sliced element to its slices by the discriminators (value, pattern, type, profile,
/// exists, including paths through resolve() into the Bundle), then checks the slicing rules: slice cardinality,
/// closed and openAtEnd, and order.
/// </summary>
internal sealed class SliceMatcher(InstanceWalker walker)
{
    /// <summary>The slice each item belongs to (null: none), after reporting the slicing rules it breaks.</summary>
    public async ValueTask<IReadOnlyList<ElementSchema?>> AssignAsync(ElementSchema element, SlicingSchema slicing, List<PocoNode> items, InstancePath parentPath, PocoNode resource, ValidationRun run)
    {
        var assigned = new ElementSchema?[items.Count];
        var sliceIndexes = new int[items.Count];
        var lastMatched = -1;
        var sawUnmatched = false;
        for (var i = 0; i < items.Count; i++)
        {
            sliceIndexes[i] = -1;
            for (var s = 0; s < slicing.Slices.Count; s++)
            {
                if (await MatchesAsync(items[i], slicing.Slices[s], slicing.Discriminators, resource, run).ConfigureAwait(false))
                {
                    sliceIndexes[i] = s;
                    assigned[i] = slicing.Slices[s];
                    break;
                }
            }
            var itemPath = parentPath.Child(element.Name, i, element.Repeats);
            if (sliceIndexes[i] < 0)
            {
                sawUnmatched = true;
                if (slicing.Rules == SlicingRules.Closed)
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                        $"This {element.Name} matches none of the slices of {element.Path} ({SliceNames(slicing)}), and the slicing is closed.", itemPath, "slicing-closed");
                }
                continue;
            }
            if (slicing.Rules == SlicingRules.OpenAtEnd && sawUnmatched)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"Slice {slicing.Slices[sliceIndexes[i]].SliceName} comes after an unsliced {element.Name}; in {element.Path} other content is only allowed at the end.", itemPath, "slicing-open-at-end");
            }
            if (slicing.Ordered && sliceIndexes[i] < lastMatched)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"Slices of {element.Path} must appear in the order {SliceNames(slicing)}; {slicing.Slices[sliceIndexes[i]].SliceName} is out of order.", itemPath, "slicing-order");
            }
            lastMatched = Math.Max(lastMatched, sliceIndexes[i]);
        }

        for (var s = 0; s < slicing.Slices.Count; s++)
        {
            var slice = slicing.Slices[s];
            var count = sliceIndexes.Count(index => index == s);
            slice.Cardinality.Validate(new SiblingGroup(count, parentPath, run));
        }
        return assigned;
    }

    private static string SliceNames(SlicingSchema slicing) => string.Join(", ", slicing.Slices.Select(s => s.SliceName));

    private async ValueTask<bool> MatchesAsync(PocoNode item, ElementSchema slice, IReadOnlyList<Discriminator> discriminators, PocoNode resource, ValidationRun run)
    {
        foreach (var discriminator in discriminators)
        {
            if (!await MatchesAsync(item, slice, discriminator, resource, run).ConfigureAwait(false))
                return false;
        }
        return true;
    }

    private async ValueTask<bool> MatchesAsync(PocoNode item, ElementSchema slice, Discriminator discriminator, PocoNode resource, ValidationRun run)
    {
        var candidates = Select(item, discriminator.Path, resource, run);
        switch (discriminator.Kind)
        {
            case DiscriminatorKind.Value:
            case DiscriminatorKind.Pattern:
            {
                // Extension slices usually state their url only through the profile of their type.
                if (discriminator.Path == "url" && slice.Types.FirstOrDefault()?.Profiles.FirstOrDefault() is { } extensionUrl && FindAt(slice, "url") is null)
                    return item.Poco is Extension extension && RawElements.Text(extension, "url") == extensionUrl;
                var target = FindAt(slice, discriminator.Path);
                var expectation = target?.Validators.FirstOrDefault(v => v is FixedValueValidator or PatternValidator);
                return expectation switch
                {
                    FixedValueValidator fixedValue => candidates.Any(fixedValue.Matches),
                    PatternValidator pattern => candidates.Any(pattern.Matches),
                    _ => await MatchesBindingAsync(target, candidates, run).ConfigureAwait(false),
                };
            }
            case DiscriminatorKind.Exists:
            {
                var target = FindAt(slice, discriminator.Path);
                if (target is null)
                    return true;
                return target.Min > 0 ? candidates.Count > 0 : target.Max != 0 || candidates.Count == 0;
            }
            case DiscriminatorKind.Type:
            {
                var allowed = await AllowedTypesAsync(slice, discriminator.Path).ConfigureAwait(false);
                // An abstract type (Resource, DomainResource) without a profile admits every resource of its kind.
                return allowed.Count == 0 || candidates.Any(c => allowed.Contains(c.Poco.TypeName)
                    || c.Poco is Resource && allowed.Contains("Resource")
                    || c.Poco is DomainResource && allowed.Contains("DomainResource"));
            }
            case DiscriminatorKind.Profile:
            {
                var target = FindAt(slice, discriminator.Path) ?? slice;
                var profiles = target.Types.SelectMany(t => discriminator.Path.Contains("resolve()", StringComparison.Ordinal) ? t.TargetProfiles : t.Profiles).ToList();
                foreach (var candidate in candidates)
                {
                    foreach (var profile in profiles)
                    {
                        if (await ConformsAsync(candidate, profile, resource, run).ConfigureAwait(false))
                            return true;
                    }
                }
                return profiles.Count == 0;
            }
            default:
                return false;
        }
    }

    /// <summary>A value discriminator on a bound element (no fixed value) matches codes of the bound ValueSet.</summary>
    private static async ValueTask<bool> MatchesBindingAsync(ElementSchema? target, List<PocoNode> candidates, ValidationRun run)
    {
        if (target?.Validators.OfType<BindingValidator>().FirstOrDefault() is not { } binding)
            return false;
        foreach (var candidate in candidates)
        {
            var probe = run.CreateProbe();
            binding.Validate(new ElementVisit(candidate, new InstancePath("probe", "probe"), candidate, probe));
            foreach (var pending in probe.PendingBindings)
            {
                foreach (var (system, code) in pending.Codes)
                {
                    if (await run.Terminology.CheckAsync(binding.ValueSet, system, code, default).ConfigureAwait(false) is { Membership: Terminology.CodeMembership.Member })
                        return true;
                }
            }
        }
        return false;
    }

    /// <summary>Whether the node meets a profile, checked in a separate run whose findings are not reported.</summary>
    public async ValueTask<bool> ConformsAsync(PocoNode node, string profile, PocoNode resource, ValidationRun run)
    {
        var lookup = await walker.Schemas.GetAsync(profile).ConfigureAwait(false);
        if (lookup.Schema is null || lookup.Schema.Type != node.Poco.TypeName && !node.Poco.TypeName.Contains('.', StringComparison.Ordinal))
            return false;
        // A resource's verdict depends on nothing but the resource; an element's may depend on its resource (%resource).
        var isResource = node.Poco is Resource;
        if (isResource && run.TargetVerdicts.TryGetValue((node.Poco, profile), out var known))
            return known;
        var probe = run.CreateProbe();
        var path = InstancePath.ForResource(node.Poco.TypeName);
        var probeResource = isResource ? node : resource;
        await walker.ValidateElementAsync(node, lookup.Schema.Root, lookup.Schema, path, probeResource, probe).ConfigureAwait(false);
        var conforms = !probe.ToResult().HasErrors;
        if (isResource)
            run.TargetVerdicts[(node.Poco, profile)] = conforms;
        return conforms;
    }

    private static List<PocoNode> Select(PocoNode item, string path, PocoNode resource, ValidationRun run)
    {
        if (path is "$this" or "")
            return [item];
        var compiled = FhirPathCache.Get(path);
        if (compiled.Compiled is null)
            return [];
        try
        {
            var context = new FhirEvaluationContext { Resource = resource, RootResource = ElementVisit.RootOf(resource), ElementResolver = run.ResolveReference };
            return compiled.Compiled([item], context).ToList();
        }
        // A discriminator path that fails to evaluate simply selects nothing: the item then belongs to no slice.
        catch (Exception)
        {
            return [];
        }
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
            if (segment.Contains('(', StringComparison.Ordinal) || !current.ChildrenByName.TryGetValue(segment, out var next))
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

    /// <summary>The types a type discriminator admits; an abstract type narrowed by profiles admits the profiles' types.</summary>
    private async ValueTask<HashSet<string>> AllowedTypesAsync(ElementSchema slice, string path)
    {
        var allowed = AllowedTypes(slice, path);
        if (!allowed.Contains("Resource") && !allowed.Contains("DomainResource"))
            return allowed;
        var element = FindAt(slice, path) ?? slice;
        var profiled = element.Types.Where(t => t.Code is "Resource" or "DomainResource" && t.Profiles.Count > 0).ToList();
        if (profiled.Count == 0)
            return allowed;
        foreach (var type in profiled)
        {
            allowed.Remove(type.Code);
            foreach (var profile in type.Profiles)
            {
                if ((await walker.Schemas.GetAsync(profile).ConfigureAwait(false)).Schema is { } schema)
                    allowed.Add(schema.Type);
            }
        }
        return allowed;
    }

    private static HashSet<string> AllowedTypes(ElementSchema slice, string path)
    {
        if (path.EndsWith("resolve()", StringComparison.Ordinal))
        {
            var target = FindAt(slice, path[..^"resolve()".Length].TrimEnd('.')) ?? slice;
            return target.Types.SelectMany(t => t.TargetProfiles)
                .Where(p => p.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal))
                .Select(p => p[SchemaRepository.CoreBase.Length..]).ToHashSet(StringComparer.Ordinal);
        }
        var element = FindAt(slice, path) ?? slice;
        return element.Types.Select(t => t.Code).ToHashSet(StringComparer.Ordinal);
    }
}
