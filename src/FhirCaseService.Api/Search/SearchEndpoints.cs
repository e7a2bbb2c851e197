using FhirCaseService.Api.Http;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Rest;
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
    /// <summary>Search result parameters the server applies, listed in the OpenAPI document next to the type's own.</summary>
    private static readonly string[] ResultParameters = ["_count", "_sort", "_total", "_summary", "_elements", "_include", "_revinclude"];

    public static IEndpointRouteBuilder MapSearch(this IEndpointRouteBuilder app)
    {
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        foreach (var type in StoredResourceTypes.All)
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
                // No Accepts metadata: with it, routing answers a wrong Content-Type itself, before authorization and
                // without an OperationOutcome; the handler answers 415 after the access check, as GET [type] would.
                .WithDescription(Description(type) + $" The body, if any, is {SearchRequest.FormContentType}; another Content-Type is a 415.")
                .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
                .RequireFhirAccess(ScopePermissions.Search, type);
            if (type != "Patient" && PatientCompartment.ParametersByType.TryGetValue(type, out var compartmentParameters))
            {
                var parameter = compartmentParameters[0];
                app.MapGet($"/Patient/{{id}}/{type}", (string id, HttpRequest request, IResourceStore store, CancellationToken cancellationToken) =>
                        SearchAsync(type, request, store, cancellationToken, $"/Patient/{id}/{type}", new(parameter, $"Patient/{id}")))
                    .WithName($"Search{type}InPatientCompartment").WithTags(type)
                    .WithSummary($"Search the {type} resources of one patient's compartment (by {type}.{parameter}); the same parameters as GET /{type}.")
                    .WithDescription(Description(type))
                    .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
                    .RequireFhirAccess(ScopePermissions.Search, type);
            }
            // What ParseInclude accepts: the type's own reference parameters, and those of stored types that point at it.
            capabilities.AddBehaviour(type, new ResourceBehaviour
            {
                SearchInclude = [.. ReferenceParameters(type).Select(p => $"{type}:{p.Name}")],
                SearchRevInclude = [.. StoredResourceTypes.All.SelectMany(source => ReferenceParameters(source)
                    .Where(p => p.Targets.Contains(type)).Select(p => $"{source}:{p.Name}"))],
            });
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

    private static IEnumerable<SearchParameterDefinition> ReferenceParameters(string type) =>
        SearchParameterCatalog.Shared.For(type).Values.Where(p => p.Type == SearchParamType.Reference).OrderBy(p => p.Name, StringComparer.Ordinal);

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

    /// <param name="path">the path page links repeat: <c>/[type]</c>, or <c>/Patient/[id]/[type]</c> for a compartment search.</param>
    /// <param name="compartment">the criterion that keeps a compartment search inside the patient's compartment (not repeated in links).</param>
    private static async Task<FhirResult> SearchAsync(string type, HttpRequest request, IResourceStore store, CancellationToken cancellationToken,
        string? path = null, KeyValuePair<string, string>? compartment = null)
    {
        var pairs = await SearchRequest.ReadParametersAsync(request, cancellationToken);
        if (!ResultSubset.TryParse(SearchRequest.Last(pairs, "_summary"), SearchRequest.Last(pairs, "_elements"), out var subset, out var error))
            return OperationOutcomes.Error(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, error!);

        // _summary=count asks for the total alone: a page of none, which makes the store count. Without _total the
        // total is estimated: exact up to SearchExecutor.EstimatedTotalCap matches, left out above (a full count of a
        // broad search costs more than its page); _total=accurate always counts; _total=none leaves it out unless one
        // page holds every match.
        List<KeyValuePair<string, string>> queryPairs = [.. pairs];
        if (subset.Summary == SummaryMode.Count)
            queryPairs.Add(new("_count", "0"));
        if (SearchRequest.Last(pairs, "_total") is null)
            queryPairs.Add(new("_total", "estimate"));
        if (compartment is { } inCompartment)
            queryPairs.Add(inCompartment);
        var query = SearchQuery.Parse(type, queryPairs);
        var unknown = UnknownPairs(type, pairs, query);
        if (unknown.Count > 0 && SearchRequest.Handling(request) == SearchHandling.Strict)
            return new FhirResult(UnknownParameterOutcome(type, unknown, OperationOutcome.IssueSeverity.Error,
                "is not supported by this server (Prefer: handling=strict)."), StatusCodes.Status400BadRequest);

        var page = await store.SearchAsync(query, cancellationToken);
        var links = pairs.Where(p => p.Key != SearchBundleBuilder.CursorParameter && !unknown.Contains(p)).ToList();
        var builder = new SearchBundleBuilder(SearchRequest.BaseUrl(request), path ?? $"/{type}", links, UrlLimits.MaxUrlBytes(request));
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
