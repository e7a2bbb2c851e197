using System.Globalization;
using FhirCaseService.Api.Limits;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Search;

/// <summary>
/// Turns one page of a search (or $everything) into a searchset Bundle: entries with fullUrl and search.mode, page links
/// that carry the store's cursor (pinned to the first page's snapshot, so paging stays correct while others write), and
/// an outcome entry for the parameters that were ignored.
/// </summary>
/// <param name="maxUrlBytes">the longest URL the server accepts (Limits:MaxUrlBytes): a next or previous link longer than that is refused with 400 instead of given out.</param>
public sealed class SearchBundleBuilder(string baseUrl, string path, IReadOnlyList<KeyValuePair<string, string>> linkParameters, int maxUrlBytes)
{
    public const string CursorParameter = "_cursor";

    /// <param name="current">the cursor of the page being answered (null on the first page): the self link reproduces it.</param>
    /// <param name="totalWhenUnasked">
    /// when the client asked for no total: true gives it anyway when it is known without counting (one page holds everything).
    /// </param>
    public Bundle Build(SearchResult page, PageCursor? current, ResultSubset subset, OperationOutcome? warnings, bool totalWhenUnasked = true)
    {
        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString("N"),
            Meta = new Meta { LastUpdatedElement = SnapshotInstant(page.SnapshotLastUpdated) },
            Type = Bundle.BundleType.Searchset,
            Total = page.Total ?? (totalWhenUnasked && current is null && page.Next is null ? page.Matches.Count : null),
        };
        bundle.Link.Add(Link("self", current));
        if (page.Next is not null)
            bundle.Link.Add(Link("next", page.Next));
        if (page.Previous is not null)
            bundle.Link.Add(Link("previous", page.Previous));

        if (warnings is not null)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = warnings,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        if (subset.Summary == SummaryMode.Count)
            return bundle;
        foreach (var match in page.Matches)
            AddEntry(bundle, match, Bundle.SearchEntryMode.Match, subset);
        foreach (var included in page.Included)
            AddEntry(bundle, included, Bundle.SearchEntryMode.Include, subset);
        return bundle;
    }

    /// <summary>
    /// The snapshot's lastUpdated, not the clock on the wall: a registry pulling with <c>_lastUpdated=gt&lt;this&gt;</c>
    /// next gets exactly the changes committed after the snapshot these pages show. Always written with milliseconds
    /// and "Z": the SDK drops a zero fraction, and "gt" on a whole second would skip the rest of that second; "Z" also
    /// survives being pasted into a query string, where "+00:00" would turn into a space.
    /// </summary>
    private static Instant SnapshotInstant(DateTimeOffset lastUpdated) =>
        new() { JsonValue = lastUpdated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) };

    private void AddEntry(Bundle bundle, StoredResource stored, Bundle.SearchEntryMode mode, ResultSubset subset)
    {
        if (stored.Resource is null)
            return;
        bundle.Entry.Add(new Bundle.EntryComponent
        {
            FullUrl = $"{baseUrl}/{stored.ResourceType}/{stored.Id}",
            Resource = subset.Apply(stored.Resource),
            Search = new Bundle.SearchComponent { Mode = mode },
        });
    }

    private Bundle.LinkComponent Link(string relation, PageCursor? cursor)
    {
        var pairs = cursor is null ? linkParameters : [.. linkParameters, new(CursorParameter, cursor.ToString())];
        var query = string.Join("&", pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        var url = query.Length == 0 ? $"{baseUrl}{path}" : $"{baseUrl}{path}?{query}";
        // The self link only records the search; next and previous are links a client follows, so they must be ones
        // this server accepts.
        if (cursor is not null && relation != "self")
            UrlLimits.CheckPageLink(relation, url, maxUrlBytes);
        return new Bundle.LinkComponent { Relation = relation, Url = url };
    }
}
