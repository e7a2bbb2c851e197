using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// The database answers one preparation of a write rests on (ifNoneExist, conditional update and delete, conditional
/// references): asked with a normal read before the write lock, each distinct criteria once, and asked again under the
/// lock (<see cref="StillHoldAsync"/>) to tell whether a concurrent writer changed them in between.
/// </summary>
internal sealed class ConditionalLookups(IResourceStore store, int deletions)
{
    /// <summary>
    /// Two matches tell "several"; the transaction's own deletions may remove one match each, so that many more are
    /// fetched. When every fetched match survives, there are at least two: a 412 before the lock, never compared.
    /// </summary>
    private readonly int _limit = 2 + deletions;

    private readonly Dictionary<string, Lookup> _lookups = new(StringComparer.Ordinal);

    private sealed record Lookup(SearchQuery Criteria, IReadOnlyList<StoredResource> Matches);

    /// <summary>
    /// The one current resource the criteria select, leaving out what the transaction deletes; null for none; several
    /// are a 412 (the client must be more specific). Criteria the server does not understand are a 400.
    /// </summary>
    public async Task<StoredResource?> SingleAsync(
        string resourceType, string criteriaText, string? expression, string description, IReadOnlySet<string> deleted, CancellationToken ct)
    {
        var text = criteriaText.TrimStart('?');
        var key = $"{resourceType}?{text}";
        if (!_lookups.TryGetValue(key, out var lookup))
        {
            var criteria = Criteria.Parse(resourceType, text, expression);
            var page = await store.SearchAsync(Criteria.Limited(resourceType, text, _limit), ct);
            _lookups[key] = lookup = new Lookup(criteria, page.Matches);
        }
        var remaining = lookup.Matches.Where(m => !deleted.Contains($"{m.ResourceType}/{m.Id}")).Take(2).ToList();
        if (remaining.Count > 1)
            throw FhirRequestException.Of(StatusCodes.Status412PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                $"{description} matches more than one {resourceType}; make the criteria select exactly one.");
        return remaining.Count == 1 ? remaining[0] : null;
    }

    /// <summary>Under the lock: true when every criteria still selects the same versions of the same resources.</summary>
    public async Task<bool> StillHoldAsync(IResourceTransaction tx, CancellationToken ct)
    {
        foreach (var lookup in _lookups.Values)
        {
            var now = await tx.FindAsync(lookup.Criteria, _limit, ct);
            if (!SameVersions(lookup.Matches, now))
                return false;
        }
        return true;
    }

    private static bool SameVersions(IReadOnlyList<StoredResource> before, IReadOnlyList<StoredResource> now) =>
        before.Count == now.Count
        && before.Select(Version).ToHashSet(StringComparer.Ordinal).SetEquals(now.Select(Version));

    private static string Version(StoredResource resource) => resource.VersionedReference;
}
