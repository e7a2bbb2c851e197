using System.Globalization;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// history at instance, type and system level: a history Bundle, newest first, deletions included, paged by
/// <c>_count</c> with next/previous links pinned to the first page's snapshot (later writes never shift a page).
/// </summary>
public static class HistoryEndpoints
{
    private const string CursorParameter = "_cursor";

    public static IEndpointRouteBuilder MapHistory(this IEndpointRouteBuilder app)
    {
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        foreach (var type in StoredResourceTypes.All)
        {
            app.MapGet($"/{type}/{{id}}/_history", (string id, HttpRequest request, IResourceStore store) =>
                    HistoryAsync(new HistoryQuery(type, id), $"/{type}/{id}/_history", request, store))
                .WithName($"History{type}Instance").WithTags(type)
                .WithSummary($"Every version of one {type}, newest first (_since, _count).")
                .RequireFhirAccess(ScopePermissions.Read, type);
            app.MapGet($"/{type}/_history", (HttpRequest request, IResourceStore store) =>
                    HistoryAsync(new HistoryQuery(type), $"/{type}/_history", request, store))
                .WithName($"History{type}Type").WithTags(type)
                .WithSummary($"Every version of every {type}, newest first (_since, _count).")
                .RequireFhirAccess(ScopePermissions.Search, type);
            capabilities.AddResource(new ResourceCapability(type,
                [CapabilityStatement.TypeRestfulInteraction.HistoryInstance, CapabilityStatement.TypeRestfulInteraction.HistoryType], [], []));
        }
        app.MapGet("/_history", (HttpRequest request, IResourceStore store) => HistoryAsync(new HistoryQuery(), "/_history", request, store))
            .WithName("HistorySystem").WithTags("System")
            .WithSummary("Every version of every resource, newest first (_since, _count).")
            .RequireFhirAccessToEach(ScopePermissions.Search, StoredResourceTypes.All);
        capabilities.AddSystemInteraction(CapabilityStatement.SystemRestfulInteraction.HistorySystem);
        return app;
    }

    private static async Task<FhirResult> HistoryAsync(HistoryQuery scope, string path, HttpRequest request, IResourceStore store)
    {
        var query = scope with
        {
            Since = Since(request.Query["_since"]),
            Count = Count(request.Query["_count"]),
            Cursor = Cursor(request.Query[CursorParameter]),
        };
        if (query.Id is not null)
        {
            var current = await store.ReadAsync(query.ResourceType!, query.Id, request.HttpContext.RequestAborted);
            if (current.Status == ReadStatus.NotFound)
                return OperationOutcomes.NotFound($"{query.ResourceType}/{query.Id} is not known to this server.");
        }
        var page = await store.HistoryAsync(query, request.HttpContext.RequestAborted);
        var baseUrl = BaseUrl.Of(request);
        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString("N"),
            Meta = new Meta { LastUpdated = DateTimeOffset.UtcNow },
            Type = Bundle.BundleType.History,
            Total = page.Total,
        };
        var linkParameters = request.Query
            .Where(p => p.Key != CursorParameter)
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? "")))
            .ToList();
        bundle.Link.Add(Link("self", baseUrl + path, linkParameters, query.Cursor));
        if (page.Next is not null)
            bundle.Link.Add(Link("next", baseUrl + path, linkParameters, page.Next));
        if (page.Previous is not null)
            bundle.Link.Add(Link("previous", baseUrl + path, linkParameters, page.Previous));
        foreach (var version in page.Entries)
            bundle.Entry.Add(Entry(baseUrl, version));
        return new FhirResult(bundle);
    }

    /// <summary>
    /// One version as a history entry. Every kept version is replayable as a PUT of its id (version 1 may have been a
    /// POST, but the id is the server's now); a deletion is a DELETE without a resource.
    /// </summary>
    private static Bundle.EntryComponent Entry(string baseUrl, StoredResource version) => new()
    {
        FullUrl = $"{baseUrl}/{version.ResourceType}/{version.Id}",
        Resource = version.Resource,
        Request = new Bundle.RequestComponent
        {
            Method = version.IsDeleted ? Bundle.HTTPVerb.DELETE : Bundle.HTTPVerb.PUT,
            Url = $"{version.ResourceType}/{version.Id}",
        },
        Response = new Bundle.ResponseComponent
        {
            Status = version.IsDeleted ? "204 No Content" : version.VersionId == 1 ? "201 Created" : "200 OK",
            Etag = VersionHeaders.ETag(version.VersionId),
            LastModified = version.LastUpdated,
        },
    };

    private static Bundle.LinkComponent Link(string relation, string url, IReadOnlyList<KeyValuePair<string, string>> parameters, PageCursor? cursor)
    {
        var pairs = cursor is null ? parameters : [.. parameters, new(CursorParameter, cursor.ToString())];
        var query = string.Join("&", pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return new Bundle.LinkComponent { Relation = relation, Url = query.Length == 0 ? url : $"{url}?{query}" };
    }

    private static DateTimeOffset? Since(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var since))
            return since;
        throw FhirRequestException.BadRequest($"_since must be an instant such as 2024-01-31T12:00:00Z; got {value}.", "_since");
    }

    private static int? Count(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            return count;
        throw FhirRequestException.BadRequest($"_count must be a whole number; got {value}.", "_count");
    }

    private static PageCursor? Cursor(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return null;
        if (PageCursor.TryParse(value, out var cursor))
            return cursor;
        throw FhirRequestException.BadRequest($"_cursor {value} is not one this server wrote; follow the Bundle's links.", CursorParameter);
    }
}
