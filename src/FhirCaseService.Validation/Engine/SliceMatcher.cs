using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Slicing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Assigns the repetitions of a sliced element to its slices with the slicing's compiled discriminator tests (an
/// extension slicing by url is one table lookup per repetition), then checks the slicing rules: slice cardinality,
/// closed and openAtEnd, and order.
/// </summary>
internal sealed class SliceMatcher(InstanceWalker walker) : ISliceConformance
{
    /// <summary>The slice each item belongs to (null: none), after reporting the slicing rules it breaks.</summary>
    public async ValueTask<IReadOnlyList<ElementSchema?>> AssignAsync(ElementSchema element, SlicingSchema slicing, List<PocoNode> items, InstancePath parentPath, PocoNode resource, ValidationRun run)
    {
        var assigned = new ElementSchema?[items.Count];
        var counts = new int[slicing.Slices.Count];
        var lastMatched = -1;
        var sawUnmatched = false;
        for (var i = 0; i < items.Count; i++)
        {
            var itemPath = InstanceWalker.ItemPath(parentPath, element, i, items[i].Poco.TypeName);
            var sliceIndex = await SliceOfAsync(items[i], itemPath, slicing, resource, run, first: 0).ConfigureAwait(false);
            // Every slice is tried, as the reference validator does: an item that another slice also admits is an error
            // (it stays in the first), unless one is a reslice of the other (name "a/b").
            for (var other = sliceIndex; other >= 0 && other + 1 < slicing.CompiledSlices.Count && slicing.SliceByUrl is null;)
            {
                other = await SliceOfAsync(items[i], itemPath, slicing, resource, run, first: other + 1).ConfigureAwait(false);
                if (other >= 0 && !AreReslices(slicing.Slices[sliceIndex].SliceName, slicing.Slices[other].SliceName))
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                        $"This {element.Name} matches more than one slice of {element.Path}: {slicing.Slices[sliceIndex].SliceName} and {slicing.Slices[other].SliceName}; the discriminators must tell them apart.",
                        itemPath, "slicing-ambiguous");
                }
            }
            if (sliceIndex < 0)
            {
                sawUnmatched = true;
                if (slicing.Rules == SlicingRules.Closed)
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                        $"This {element.Name} matches none of the slices of {element.Path} ({slicing.SliceNames}), and the slicing is closed.",
                        parentPath.Child(element.Name, i, element.Repeats), "slicing-closed");
                }
                continue;
            }
            assigned[i] = slicing.Slices[sliceIndex];
            counts[sliceIndex]++;
            if (slicing.Rules == SlicingRules.OpenAtEnd && sawUnmatched)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"Slice {slicing.Slices[sliceIndex].SliceName} comes after an unsliced {element.Name}; in {element.Path} other content is only allowed at the end.",
                    parentPath.Child(element.Name, i, element.Repeats), "slicing-open-at-end");
            }
            if (slicing.Ordered && sliceIndex < lastMatched)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"Slices of {element.Path} must appear in the order {slicing.SliceNames}; {slicing.Slices[sliceIndex].SliceName} is out of order.",
                    parentPath.Child(element.Name, i, element.Repeats), "slicing-order");
            }
            lastMatched = Math.Max(lastMatched, sliceIndex);
        }

        for (var s = 0; s < slicing.Slices.Count; s++)
            slicing.Slices[s].Cardinality.Validate(new SiblingGroup(counts[s], parentPath, run));
        return assigned;
    }

    private static bool AreReslices(string? first, string? second) =>
        first is not null && second is not null
        && (second.StartsWith(first + "/", StringComparison.Ordinal) || first.StartsWith(second + "/", StringComparison.Ordinal));

    /// <summary>The index of the first slice from <paramref name="first"/> on whose compiled tests all pass, or -1.</summary>
    private async ValueTask<int> SliceOfAsync(PocoNode item, InstancePath itemPath, SlicingSchema slicing, PocoNode resource, ValidationRun run, int first)
    {
        if (slicing.SliceByUrl is { } byUrl)
            return item.Poco is Extension extension && RawElements.Text(extension, "url") is { } url && byUrl.TryGetValue(url, out var index) ? index : -1;
        for (var s = first; s < slicing.CompiledSlices.Count; s++)
        {
            var candidate = new SliceCandidate(item, resource, run, this) { ItemPath = itemPath, Slice = slicing.CompiledSlices[s].Element };
            var matches = true;
            foreach (var test in slicing.CompiledSlices[s].Tests)
            {
                if (!await test.MatchesAsync(candidate).ConfigureAwait(false))
                {
                    matches = false;
                    break;
                }
            }
            if (matches)
                return s;
        }
        return -1;
    }

    public async ValueTask<string?> ConstrainedTypeAsync(string profile) => (await walker.Schemas.GetAsync(profile).ConfigureAwait(false)).Schema?.Type;

    /// <summary>
    /// Whether the node meets a profile: the value of validating it against the profile's compiled schema, a trial in the
    /// same run (<see cref="ValidationRun.TrialAsync"/>) whose result is read for errors and dropped; once per node and
    /// profile in a validation call. An element always belongs to the same resource (its %resource), so its verdict is
    /// cached like a resource's.
    /// </summary>
    public async ValueTask<bool> ConformsAsync(PocoNode node, string profile, PocoNode resource, ValidationRun run, InstancePath? at = null)
    {
        var lookup = await walker.Schemas.GetAsync(profile).ConfigureAwait(false);
        if (lookup.Schema is null || lookup.Schema.Type != node.Poco.TypeName && !node.Poco.TypeName.Contains('.', StringComparison.Ordinal))
            return false;
        if (run.TargetVerdicts.TryGetValue((node.Poco, profile), out var known))
            return known;
        var schema = lookup.Schema;
        var trialResource = node.Poco is Resource ? node : resource;
        // At the node's own path the trial is the walk the node gets if it is then validated against this profile, and is
        // kept to be that walk's result; elsewhere (a reference's target) it runs at a path of its own and is dropped.
        var path = at ?? InstancePath.ForResource(node.Poco.TypeName);
        var keepFor = at is null ? (ValidationRun.WalkKey?)null : new ValidationRun.WalkKey(node.Poco, schema, path, trialResource.Poco);
        var conforms = await run.TrialAsync(() => walker.WalkRootAsync(node, schema, path, trialResource, run), keepFor).ConfigureAwait(false);
        run.TargetVerdicts[(node.Poco, profile)] = conforms;
        return conforms;
    }
}
