using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Search;

/// <summary>
/// Type-level search over HTTP: <c>GET [type]?...</c> and <c>POST [type]/_search</c> (form body) for the resource types
/// of the case-series model. Parameters become a <see cref="SearchQuery"/>; the store's page becomes a searchset Bundle.
/// </summary>
public static class SearchEndpoints
{
    /// <summary>The resource types the service stores: the converter's output and what EHRs send.</summary>
    public static readonly IReadOnlyList<string> SearchableTypes =
        ["Patient", "Condition", "MedicationAdministration", "Procedure", "Observation", "Provenance", "Group"];

    /// <summary>Search result parameters the server applies, listed in the OpenAPI document next to the type's own.</summary>
    private static readonly string[] ResultParameters = ["_count", "_sort", "_total", "_summary", "_elements", "_include", "_revinclude"];

    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder app)
    {
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        foreach (var type in SearchableTypes)
        {
            app.MapGet($"/{type}", (HttpRequest request, IResourceStore store, CancellationToken cancellationToken) =>
                    SearchAsync(type, request, store, cancellationToken))
                .WithName($"Search{type}").WithTags(type)
                .WithSummary($"Search {type} resources; answers a searchset Bundle with self/next/previous links.")
                .WithDescription(Description(type))
                .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
                .RequireFhirAccess(ScopePermissions.Search, type);
            app.MapPost($"/{type}/_search", (HttpRequest request, IResourceStore store, CancellationToken cancellationToken) =>
                    SearchWithFormAsync(type, request, store, cancellationToken))
                .WithName($"Search{type}WithPost").WithTags(type)
                .WithSummary($"Search {type} resources with the parameters in an application/x-www-form-urlencoded body (and the query string).")
                .WithDescription(Description(type))
                .Accepts<string>(SearchRequest.FormContentType)
                .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
                .RequireFhirAccess(ScopePermissions.Search, type);
            capabilities.AddResource(new ResourceCapability(
                type,
                [CapabilityStatement.TypeRestfulInteraction.SearchType],
                [.. SearchParameterCatalog.Shared.For(type).Values
                    .OrderBy(p => p.Name, StringComparer.Ordinal)
                    .Select(p => new SearchParameterCapability(p.Name, p.Type))],
                []));
        }
        return app;
    }

    private static string Description(string type) =>
        $"Parameters: the R4 search parameters of {type} (see the CapabilityStatement at /metadata), and {string.Join(", ", ResultParameters)}. " +
        "Unknown parameters are ignored and reported in an OperationOutcome entry (search.mode = outcome) unless the request says " +
        "`Prefer: handling=strict`, which answers 400. Follow the Bundle's next/previous links to page: they stay correct while others write.";

    private static async Task<FhirResult> SearchWithFormAsync(string type, HttpRequest request, IResourceStore store, CancellationToken cancellationToken)
    {
        if (!SearchRequest.HasFormBodyOrNone(request))
            return OperationOutcomes.Error(StatusCodes.Status415UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
                $"POST {type}/_search takes its parameters as {SearchRequest.FormContentType}.");
        return await SearchAsync(type, request, store, cancellationToken);
    }

    private static async Task<FhirResult> SearchAsync(string type, HttpRequest request, IResourceStore store, CancellationToken cancellationToken)
    {
        var pairs = await SearchRequest.ReadParametersAsync(request, cancellationToken);
        if (!ResultSubset.TryParse(SearchRequest.Last(pairs, "_summary"), SearchRequest.Last(pairs, "_elements"), out var subset, out var error))
            return OperationOutcomes.Error(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, error!);

        // _summary=count asks for the total alone: a page of none, which makes the store count.
        var query = SearchQuery.Parse(type, subset.Summary == SummaryMode.Count ? [.. pairs, new("_count", "0")] : pairs);
        var unknown = UnknownPairs(type, pairs, query);
        if (unknown.Count > 0 && SearchRequest.Handling(request) == SearchHandling.Strict)
            return new FhirResult(UnknownParameterOutcome(type, unknown, OperationOutcome.IssueSeverity.Error,
                "is not supported by this server (Prefer: handling=strict)."), StatusCodes.Status400BadRequest);

        var page = await store.SearchAsync(query, cancellationToken);
        var links = pairs.Where(p => p.Key != SearchBundleBuilder.CursorParameter && !unknown.Contains(p)).ToList();
        var builder = new SearchBundleBuilder(SearchRequest.BaseUrl(request), $"/{type}", links);
        var warnings = unknown.Count == 0
            ? null
            : UnknownParameterOutcome(type, unknown, OperationOutcome.IssueSeverity.Warning, "is not supported by this server and was ignored.");
        return new FhirResult(builder.Build(page, query.Cursor, subset, warnings));
    }

    /// <summary>
    /// The pairs the store did not understand. The parser reports a chain's unknown tail by its inner name, so each
    /// pair is checked on its own: what is dropped from the self link is exactly what was ignored.
    /// </summary>
    private static List<KeyValuePair<string, string>> UnknownPairs(string type, IReadOnlyList<KeyValuePair<string, string>> pairs, SearchQuery query)
    {
        if (query.UnknownParameters.Count == 0)
            return [];
        return pairs.Where(p => SearchQuery.Parse(type, [p]).UnknownParameters.Count > 0).ToList();
    }

    private static OperationOutcome UnknownParameterOutcome(string type, IEnumerable<KeyValuePair<string, string>> unknown, OperationOutcome.IssueSeverity severity, string verdict) =>
        new()
        {
            Issue = [.. unknown.Select(p => p.Key).Distinct(StringComparer.Ordinal).Select(name => new OperationOutcome.IssueComponent
            {
                Severity = severity,
                Code = OperationOutcome.IssueType.NotSupported,
                Diagnostics = $"The search parameter '{name}' of {type} {verdict}",
            })],
        };
}
