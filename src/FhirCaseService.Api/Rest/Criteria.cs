using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.WebUtilities;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Search criteria of a conditional interaction (If-None-Exist, <c>PUT Patient?identifier=...</c>, a conditional reference).
/// Unlike a search, a criterion the server does not understand is an error: ignoring it would match too much.
/// </summary>
public static class Criteria
{
    public static SearchQuery Parse(string resourceType, string queryText, string? expression = null)
    {
        var pairs = Pairs(queryText);
        if (pairs.Count == 0)
            throw FhirRequestException.BadRequest($"The conditional criteria for {resourceType} are empty; name at least one search parameter.", expression);
        var query = SearchQuery.Parse(resourceType, pairs);
        if (query.UnknownParameters.Count > 0)
            throw FhirRequestException.BadRequest(
                $"The conditional criteria use {string.Join(", ", query.UnknownParameters)}, which {resourceType} search does not support here.", expression);
        // Only result parameters (_count, _sort, _include...) select everything: acting on that would touch every resource.
        if (query.Criteria.Count == 0)
            throw FhirRequestException.BadRequest(
                $"The conditional criteria for {resourceType} name no parameter that selects resources (only {string.Join(", ", pairs.Select(p => p.Key).Distinct())}, " +
                "which shape a result); name at least one search parameter.", expression);
        return query;
    }

    /// <summary>The criteria as a search for at most <paramref name="count"/> matches (a read outside any transaction); parse them with <see cref="Parse"/> first.</summary>
    public static SearchQuery Limited(string resourceType, string queryText, int count) =>
        SearchQuery.Parse(resourceType, [.. Pairs(queryText).Where(p => p.Key != "_count"),
            new KeyValuePair<string, string>("_count", count.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    /// <summary>A query string as name/value pairs, without the parameters that only shape the response format.</summary>
    public static List<KeyValuePair<string, string>> Pairs(string queryText) =>
        QueryHelpers.ParseQuery(queryText.TrimStart('?'))
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? "")))
            .Where(p => p.Key is not ("_format" or "_pretty"))
            .ToList();

    /// <summary>The one resource the criteria select, null for none; several are a 412 (the client must be more specific).</summary>
    public static async Task<StoredResource?> FindSingleAsync(IResourceTransaction tx, SearchQuery query, string description, CancellationToken cancellationToken)
    {
        var matches = await tx.FindAsync(query, limit: 2, cancellationToken);
        if (matches.Count > 1)
            throw FhirRequestException.Of(StatusCodes.Status412PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                $"{description} matches more than one {query.ResourceType}; make the criteria select exactly one.");
        return matches.Count == 1 ? matches[0] : null;
    }
}
