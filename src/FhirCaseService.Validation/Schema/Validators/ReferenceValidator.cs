using System.Collections.Frozen;
using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema.Slicing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>How a Reference's target may be held (ElementDefinition.type.aggregation).</summary>
[Flags]
public enum AggregationModes
{
    None = 0,
    Contained = 1,
    Bundled = 2,
    Referenced = 4,
}

/// <summary>
/// One Reference type of one element, compiled: its targetProfiles split into core types (a set, decided by a lookup)
/// and profiles (resolved by canonical when first met, like every type link), and its aggregation modes as flags.
/// At validation time the target is found among the contained resources ("#id") or in the Bundle (fullUrl, Type/id);
/// when it cannot be found there, the caller's <see cref="ValidationOptions.ReferenceResolver"/> (if any) may fetch it for a
/// profile check; otherwise the type the reference itself names ("Observation/123") is still checked. Profiles other
/// than core are checked on resolved targets only. Immutable and thread-safe.
/// </summary>
public sealed class ReferenceValidator
{
    private readonly IReadOnlyList<string> _targetProfiles;
    /// <summary>The core resource types among the targets ("Patient" for .../StructureDefinition/Patient).</summary>
    private readonly FrozenSet<string> _coreTypes;
    /// <summary>A core target of Resource or DomainResource: any target type is allowed, and no profile need be met.</summary>
    private readonly bool _anyCoreType;
    /// <summary>Targets that are profiles (not core): their type is read from their schema.</summary>
    private readonly IReadOnlyList<string> _profiles;
    private readonly AggregationModes _aggregation;
    private readonly string _aggregationText;

    public ReferenceValidator(IReadOnlyList<string> targetProfiles, IReadOnlyList<string> aggregation)
    {
        ArgumentNullException.ThrowIfNull(targetProfiles);
        ArgumentNullException.ThrowIfNull(aggregation);
        _targetProfiles = targetProfiles;
        _coreTypes = targetProfiles.Where(IsCore).Select(p => p[SchemaRepository.CoreBase.Length..]).ToFrozenSet(StringComparer.Ordinal);
        _anyCoreType = _coreTypes.Contains("Resource") || _coreTypes.Contains("DomainResource");
        _profiles = targetProfiles.Where(p => !IsCore(p)).ToArray();
        foreach (var mode in aggregation)
        {
            _aggregation |= mode switch
            {
                "contained" => AggregationModes.Contained,
                "bundled" => AggregationModes.Bundled,
                "referenced" => AggregationModes.Referenced,
                _ => throw new ArgumentException($"Unknown aggregation mode '{mode}'.", nameof(aggregation)),
            };
        }
        // "referenced" also admits a reference that resolves in the Bundle, as the reference validator reads it.
        if (_aggregation.HasFlag(AggregationModes.Referenced))
            _aggregation |= AggregationModes.Bundled;
        _aggregationText = string.Join(" or ", aggregation);
    }

    /// <summary>A Reference with no targetProfile and no aggregation (and a Reference met where the type is not Reference): only its resolution is checked.</summary>
    public static ReferenceValidator Unconstrained { get; } = new([], []);

    public bool IsUnconstrained => _targetProfiles.Count == 0 && _aggregation == AggregationModes.None;

    /// <summary>
    /// A core resource type's definition. HL7's own profiles share its namespace (.../StructureDefinition/vitalsigns,
    /// .../bodyweight): those are profiles, met by a target of the type they constrain.
    /// </summary>
    private static bool IsCore(string profile) =>
        profile.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal) && ResourceTypeNames.IsResourceOrBase(profile[SchemaRepository.CoreBase.Length..]);

    public async ValueTask ValidateAsync(ResourceReference reference, InstancePath path, PocoNode resource, ValidationRun run, ISliceConformance conformance)
    {
        // Read raw: a partial parse result may hold a number or an object where the reference string belongs.
        if (RawElements.Text(reference, "reference") is not { Length: > 0 } literal)
            return;
        // A literal reference is a URL: whitespace anywhere in it (Java's \s, ASCII) makes it no reference at all.
        if (literal.AsSpan().IndexOfAny(" \t\n\u000B\f\r") >= 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"The reference '{literal}' is not a valid reference: it contains whitespace.", path, "reference-invalid");
        }
        if (run.Bundle?.CountFullUrlMatches(literal, resource) is > 1 and var matches)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"Reference '{literal}' matches {matches} entries of the Bundle; it must identify one.", path, "reference-ambiguous");
        }
        var target = Resolve(literal, resource, run);
        if (RawElements.Text(reference, "type") is { Length: > 0 } declaredType)
            await CheckDeclaredTypeAsync(declaredType, literal, target, path, run, conformance).ConfigureAwait(false);
        if (_aggregation != AggregationModes.None)
            CheckAggregation(literal, target, path, run);
        if (target is null && run.Bundle?.OtherTypeWithId(literal) is { } otherType)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"Reference '{literal}' matches a Bundle entry by its id, but that entry is a {otherType.Poco.TypeName}.", path, "reference-type-mismatch");
            return;
        }
        if (target is null && IsLocal(literal, run))
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound,
                $"Reference '{literal}' points to nothing: no {(literal.StartsWith('#') ? "contained resource" : "Bundle entry")} has that identity.",
                path, "reference-unresolved");
            return;
        }
        if (_targetProfiles.Count == 0 || _anyCoreType)
            return;

        // Not contained and not in the Bundle: fetched through the caller's resolver, only where a profile beyond core
        // is to be met (a core target is met by its type alone). Aggregation above still counts it as referenced.
        if (target is null && _profiles.Count > 0 && run.Options.ReferenceResolver is { } resolver && ResourceAddress.Parse(literal) is not null)
            target = await run.ExternalTargets.FetchAsync(literal, resolver).ConfigureAwait(false);
        var targetType = target?.Poco.TypeName ?? RawElements.Text(reference, "type") ?? TypeNamedIn(literal);
        // A core target of the referenced type is met by any resource of that type: no profile to check.
        if (targetType is null || _coreTypes.Contains(targetType))
            return;
        var sameType = new List<string>();
        var known = 0;
        foreach (var profile in _profiles)
        {
            if (await conformance.ConstrainedTypeAsync(profile).ConfigureAwait(false) is not { } profileType)
                continue;
            known++;
            if (profileType == targetType || profileType is "Resource" or "DomainResource")
                sameType.Add(profile);
        }
        // A reference that resolves to nothing is judged against target profiles only when one of them is known (the
        // reference validator checks a target's type against the profiles only once it has the target).
        if (target is null && known == 0 && _coreTypes.Count == 0)
            return;
        if (sameType.Count == 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"Reference points to {targetType}, but only {await DescribeAllowedAsync(conformance).ConfigureAwait(false)} is allowed here.", path, "reference-target");
            return;
        }
        if (target is null)
            return;
        foreach (var profile in sameType)
        {
            // A check met again while it is under way (a circle of links) counts as met: the outer check decides.
            if (!run.ExternalTargets.Enter(target, profile))
                return;
            try
            {
                if (await conformance.ConformsAsync(target, profile, target, run).ConfigureAwait(false))
                    return;
            }
            finally
            {
                run.ExternalTargets.Leave(target, profile);
            }
        }
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
            $"Reference points to {targetType} that does not meet {string.Join(" or ", sameType)}.", path, "reference-target");
    }

    /// <summary>
    /// Reference.type (R4), as the reference validator checks it: it must be a type the element's target profiles allow
    /// (unless Resource is allowed or there are none), a profile counting as the type it constrains; and it must be
    /// the type of the resource referenced, resolved or named in the reference's URL.
    /// </summary>
    private async ValueTask CheckDeclaredTypeAsync(string declaredType, string literal, PocoNode? target, InstancePath path, ValidationRun run, ISliceConformance conformance)
    {
        var typeUrl = declaredType.Contains(':', StringComparison.Ordinal) ? declaredType : SchemaRepository.CoreBase + declaredType;
        if (_targetProfiles.Count > 0 && !_targetProfiles.Contains(typeUrl) && !_targetProfiles.Contains(SchemaRepository.CoreBase + "Resource"))
        {
            var allowed = false;
            foreach (var profile in _targetProfiles)
            {
                var type = IsCore(profile) ? profile[SchemaRepository.CoreBase.Length..] : await conformance.ConstrainedTypeAsync(profile).ConfigureAwait(false);
                if (type is not null && SchemaRepository.CoreBase + type == typeUrl)
                {
                    allowed = true;
                    break;
                }
            }
            if (!allowed)
            {
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                    $"Reference.type '{declaredType}' is not a type this element may reference ({await DescribeAllowedAsync(conformance).ConfigureAwait(false)}).", path, "reference-target");
            }
        }
        if ((target?.Poco.TypeName ?? TypeNamedIn(literal)) is { } actual && actual != declaredType)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"Reference.type '{declaredType}' is not the type of the resource referenced ({actual}).", path, "reference-target");
        }
    }

    /// <summary>"#id" is contained, one that resolves in the Bundle is bundled, any other is referenced.</summary>
    private void CheckAggregation(string literal, PocoNode? target, InstancePath path, ValidationRun run)
    {
        var held = literal.StartsWith('#') ? AggregationModes.Contained : target is not null ? AggregationModes.Bundled : AggregationModes.Referenced;
        if ((_aggregation & held) != 0)
            return;
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
            held == AggregationModes.Referenced
                ? $"Reference '{literal}' is not found in the Bundle or among the contained resources, but this element allows only {_aggregationText} references."
                : $"Reference '{literal}' is {held.ToString().ToLowerInvariant()}, but this element allows only {_aggregationText} references.",
            path, "reference-aggregation");
    }

    /// <summary>The allowed targets for a message, in the definition's order; a profile whose definition is unknown is left out.</summary>
    private async ValueTask<string> DescribeAllowedAsync(ISliceConformance conformance)
    {
        var allowed = new List<string>();
        foreach (var profile in _targetProfiles)
        {
            if (IsCore(profile))
                allowed.Add(profile[SchemaRepository.CoreBase.Length..]);
            else if (await conformance.ConstrainedTypeAsync(profile).ConfigureAwait(false) is { } type)
                allowed.Add($"{type} ({profile})");
        }
        return string.Join(" or ", allowed);
    }

    private static PocoNode? Resolve(string reference, PocoNode resource, ValidationRun run) =>
        reference.StartsWith('#') ? ResolveContained(reference[1..], resource) : run.ResolveReference(reference);

    /// <summary>
    /// "#id" names a resource contained in the resource that holds the reference or, from inside a contained resource, a
    /// sibling in the same container (references.html#contained: contained resources reference each other so); the
    /// search goes up through containers only, never past a Bundle entry.
    /// </summary>
    private static PocoNode? ResolveContained(string id, PocoNode resource)
    {
        for (var node = resource; ; node = node.Parent!)
        {
            if (node.Child("contained")?.FirstOrDefault(c => c.Poco is Resource contained && RawElements.Text(contained, "id") == id) is { } found)
                return found;
            if (node.Name != "contained" || node.Parent is null)
                return null;
        }
    }

    /// <summary>References that must resolve: to contained resources, and urn: identities inside a Bundle.</summary>
    private static bool IsLocal(string reference, ValidationRun run) =>
        reference.StartsWith('#') && reference.Length > 1 || run.Bundle is not null && reference.StartsWith("urn:", StringComparison.Ordinal);

    /// <summary>"Observation/123", "http://server/fhir/Observation/123" or ".../_history/2": the type segment before the id.</summary>
    private static string? TypeNamedIn(string reference)
    {
        var segments = reference.Split('/');
        var history = Array.IndexOf(segments, "_history");
        var end = history > 0 ? history : segments.Length;
        return end >= 2 && ResourceTypeNames.IsResourceType(segments[end - 2]) ? segments[end - 2] : null;
    }
}
