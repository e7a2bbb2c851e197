namespace FhirCaseService.Storage.Search;

/// <summary>
/// One page of a search: <see cref="Matches"/> (Bundle entry search.mode = match) in sort order, then
/// <see cref="Included"/> (mode = include: _include / _revinclude, never duplicating a match). <see cref="Total"/> is set
/// when <c>_total=accurate</c> was asked (and always for $everything). Page links: the original parameters
/// (<see cref="SearchQuery.LinkParameters"/>) plus <c>_cursor</c> = <see cref="Next"/> / <see cref="Previous"/>.
/// </summary>
public sealed record SearchResult(
    IReadOnlyList<StoredResource> Matches,
    IReadOnlyList<StoredResource> Included,
    int? Total,
    PageCursor? Next,
    PageCursor? Previous,
    long Snapshot)
{
    /// <summary>
    /// The lastUpdated of the newest version at <see cref="Snapshot"/> (the same on every page of the search): every
    /// match has lastUpdated at or before it, and every later change after it. A searchset's meta.lastUpdated, so
    /// <c>_lastUpdated=gt&lt;it&gt;</c> on the next pull misses nothing and repeats nothing while others write.
    /// </summary>
    public DateTimeOffset SnapshotLastUpdated { get; init; }
}

/// <summary>
/// <c>Patient/[id]/$everything</c>: <see cref="Since"/> keeps resources with lastUpdated at or after it,
/// <see cref="Types"/> (from <c>_type</c>) restricts the resource types (empty: all in the compartment).
/// </summary>
public sealed record EverythingQuery(string PatientId, DateTimeOffset? Since = null, IReadOnlyList<string>? Types = null, int? Count = null, PageCursor? Cursor = null);
