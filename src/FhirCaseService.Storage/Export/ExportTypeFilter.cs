using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Export;

/// <summary>
/// One <c>_typeFilter</c> value ("Observation?code=mrd&amp;status=final"): a search over one type whose criteria restrict
/// that type's rows in an export. The kick-off checks every value with <see cref="Parse"/>; the store parses them again
/// the same way when it reads.
/// </summary>
public static class ExportTypeFilter
{
    /// <summary>
    /// Splits at the first '?', decodes the query string (a repeated name is two criteria, ANDed, as in a search) and
    /// parses it as a search on the type before the '?'.
    /// </summary>
    /// <exception cref="SearchQueryException">No '?', an unknown resource type or a malformed search value.</exception>
    public static SearchQuery Parse(string typeFilter)
    {
        ArgumentNullException.ThrowIfNull(typeFilter);
        var question = typeFilter.IndexOf('?');
        if (question <= 0)
            throw new SearchQueryException([$"_typeFilter '{typeFilter}' must be a resource type, '?' and a search query."]);
        return SearchQuery.Parse(typeFilter[..question], QueryPairs(typeFilter[(question + 1)..]));
    }

    /// <summary>The queries among <paramref name="typeFilters"/> that restrict <paramref name="resourceType"/>.</summary>
    internal static IReadOnlyList<SearchQuery> For(IReadOnlyList<string> typeFilters, string resourceType) =>
        typeFilters.Where(f => f.StartsWith(resourceType + "?", StringComparison.Ordinal)).Select(Parse).ToList();

    private static IEnumerable<KeyValuePair<string, string>> QueryPairs(string query)
    {
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            var name = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? "" : part[(equals + 1)..];
            yield return new(Decode(name), Decode(value));
        }
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
