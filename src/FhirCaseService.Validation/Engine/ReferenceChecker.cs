using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Checks a Reference against the element's targetProfiles: the target is found among the contained resources
/// ("#id") or in the Bundle (fullUrl, Type/id); when it cannot be found, the type named in the reference itself
/// ("Observation/123") is still checked. Profiles other than core are checked on resolved targets only.
/// </summary>
internal sealed class ReferenceChecker(SliceMatcher conformance, SchemaRepository schemas)
{
    public async ValueTask CheckAsync(ResourceReference reference, TypeReference type, InstancePath path, PocoNode resource, ValidationRun run)
    {
        // Read raw: a partial parse result may hold a number or an object where the reference string belongs.
        if (RawElements.Text(reference, "reference") is not { Length: > 0 } literal)
            return;
        if (run.Bundle?.CountFullUrlMatches(literal, resource) is > 1 and var matches)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"Reference '{literal}' matches {matches} entries of the Bundle; it must identify one.", path, "reference-ambiguous");
        }
        var target = Resolve(literal, resource, run);
        CheckAggregation(literal, target, type, path, run);
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
        if (type.TargetProfiles.Count == 0)
            return;

        var targetType = target?.Poco.TypeName ?? RawElements.Text(reference, "type") ?? TypeNamedIn(literal);
        if (targetType is null)
            return;
        var allowed = new List<(string Profile, string Type)>();
        foreach (var profile in type.TargetProfiles)
        {
            var profileType = profile.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal)
                ? profile[SchemaRepository.CoreBase.Length..]
                : (await schemas.GetAsync(profile).ConfigureAwait(false)).Schema?.Type;
            if (profileType is not null)
                allowed.Add((profile, profileType));
        }
        var sameType = allowed.Where(a => a.Type == targetType || a.Type is "Resource" or "DomainResource").ToList();
        if (sameType.Count == 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"Reference points to {targetType}, but only {string.Join(" or ", allowed.Select(Describe))} is allowed here.", path, "reference-target");
            return;
        }
        if (target is null || sameType.Exists(a => a.Profile.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal)))
            return;
        foreach (var (profile, _) in sameType)
        {
            if (await conformance.ConformsAsync(target, profile, target, run).ConfigureAwait(false))
                return;
        }
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
            $"Reference points to {targetType} that does not meet {string.Join(" or ", sameType.Select(a => a.Profile))}.", path, "reference-target");
    }

    /// <summary>
    /// type.aggregation: a reference held as the element allows. "#id" is contained, one that resolves in the Bundle is
    /// bundled (which "referenced" also admits, as the reference validator reads it), any other is referenced.
    /// </summary>
    private static void CheckAggregation(string literal, PocoNode? target, TypeReference type, InstancePath path, ValidationRun run)
    {
        if (type.Aggregation.Count == 0)
            return;
        var held = literal.StartsWith('#') ? "contained" : target is not null ? "bundled" : "referenced";
        var allowed = type.Aggregation.Contains(held, StringComparer.Ordinal)
            || held == "bundled" && type.Aggregation.Contains("referenced", StringComparer.Ordinal);
        if (!allowed)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                held == "referenced"
                    ? $"Reference '{literal}' is not found in the Bundle or among the contained resources, but this element allows only {string.Join(" or ", type.Aggregation)} references."
                    : $"Reference '{literal}' is {held}, but this element allows only {string.Join(" or ", type.Aggregation)} references.",
                path, "reference-aggregation");
        }
    }

    private static string Describe((string Profile, string Type) allowed) =>
        allowed.Profile.StartsWith(SchemaRepository.CoreBase, StringComparison.Ordinal) ? allowed.Type : $"{allowed.Type} ({allowed.Profile})";

    private static PocoNode? Resolve(string reference, PocoNode resource, ValidationRun run)
    {
        if (reference.StartsWith('#'))
        {
            var id = reference[1..];
            return resource.Child("contained")?.FirstOrDefault(c => c.Poco is Resource contained && RawElements.Text(contained, "id") == id);
        }
        return run.ResolveReference(reference);
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
        return end >= 2 && ModelInfo.IsKnownResource(segments[end - 2]) ? segments[end - 2] : null;
    }
}
