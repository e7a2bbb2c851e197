namespace FhirCaseService.Storage;

/// <summary>
/// History of one resource (type and id), of a type (type only) or of the whole system (neither).
/// <see cref="Since"/>: versions with lastUpdated at or after it. <see cref="Cursor"/>: from a previous page.
/// </summary>
public sealed record HistoryQuery(string? ResourceType = null, string? Id = null, DateTimeOffset? Since = null, int? Count = null, PageCursor? Cursor = null);

/// <summary>One page of history, newest first; deletions included. Cursors are null at either end.</summary>
public sealed record HistoryPage(IReadOnlyList<StoredResource> Entries, int? Total, PageCursor? Next, PageCursor? Previous, long Snapshot);

/// <summary>
/// Where a page starts in a pinned snapshot: only versions committed at or before change sequence
/// <see cref="Snapshot"/> are seen, so later writes never shift the pages of a search or history already begun.
/// Its text form ("snapshot.offset", or "snapshot.offset.seek" with <see cref="After"/>) is what the API puts in a page
/// link as <c>_cursor</c>. <see cref="After"/> (sorted searches) names the last match of the page before, so an
/// index-ordered page seeks to it instead of reading and skipping <see cref="Offset"/> rows; the offset still says the
/// same position to a plan that cannot seek.
/// </summary>
public sealed record PageCursor(long Snapshot, int Offset)
{
    public Search.SeekPosition? After { get; init; }

    public override string ToString() => After is null ? $"{Snapshot}.{Offset}" : $"{Snapshot}.{Offset}.{After}";

    public static bool TryParse(string? text, out PageCursor? cursor)
    {
        cursor = null;
        var parts = text?.Split('.');
        Search.SeekPosition? after = null;
        if (parts is not { Length: 2 or 3 }
            || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var snapshot)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset)
            || parts.Length == 3 && !Search.SeekPosition.TryParse(parts[2], out after))
            return false;
        cursor = new PageCursor(snapshot, offset) { After = after };
        return true;
    }
}
