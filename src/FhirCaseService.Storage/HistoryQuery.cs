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
/// Its text form ("snapshot.offset") is what the API puts in a page link as <c>_cursor</c>.
/// </summary>
public sealed record PageCursor(long Snapshot, int Offset)
{
    public override string ToString() => $"{Snapshot}.{Offset}";

    public static bool TryParse(string? text, out PageCursor? cursor)
    {
        cursor = null;
        var parts = text?.Split('.');
        if (parts is not { Length: 2 }
            || !long.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var snapshot)
            || !int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset))
            return false;
        cursor = new PageCursor(snapshot, offset);
        return true;
    }
}
