using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Audit;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Audit;

/// <summary>
/// The audit trail, read-only: <c>GET /AuditEvent</c> (search, newest first, paged by a cursor) and
/// <c>GET /AuditEvent/{id}</c>. Any other method answers 405. AuditEvent is not a stored resource type, so a
/// transaction or batch cannot write one either: the trail has no way in but the audit middleware.
/// </summary>
public static class AuditEventEndpoints
{
    private const string Type = "AuditEvent";
    private static readonly string[] WriteMethods = [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete];

    public static IEndpointRouteBuilder MapAuditEventEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup($"/{Type}").WithTags(Type);
        group.MapGet("", SearchAsync)
            .WithName("SearchAuditEvent")
            .WithSummary("Search the audit trail, newest first: date (eq/ge/gt/le/lt), agent (client id), entity (Type/id), entity-type, action, subtype, outcome, _count.")
            .RequireFhirAccess(ScopePermissions.Read | ScopePermissions.Search, Type);
        group.MapGet("/{id}", ReadAsync)
            .WithName("ReadAuditEvent")
            .WithSummary("Read one AuditEvent of the trail.")
            .RequireFhirAccess(ScopePermissions.Read | ScopePermissions.Search, Type);
        group.MapMethods("", WriteMethods, () => new MethodNotAllowedResult($"The audit trail cannot be changed through the API: {Type} supports GET (search) only."))
            .WithName("RefuseAuditEventTypeWrites")
            .ExcludeFromDescription()
            .RequireClient();
        group.MapMethods("/{id}", WriteMethods, () => new MethodNotAllowedResult($"The audit trail cannot be changed through the API: {Type}/[id] supports GET (read) only."))
            .WithName("RefuseAuditEventWrites")
            .ExcludeFromDescription()
            .RequireClient();

        app.ServiceProvider.GetRequiredService<ServerCapabilities>().AddResource(new ResourceCapability(
            Type,
            [CapabilityStatement.TypeRestfulInteraction.Read, CapabilityStatement.TypeRestfulInteraction.SearchType],
            [.. AuditEventSearch.Parameters.Select(p => new SearchParameterCapability(p.Name, p.Type, $"http://hl7.org/fhir/SearchParameter/{Type}-{p.Name}"))],
            []));
        return app;
    }

    private static async Task<IResult> ReadAsync(string id, IAuditStore store, CancellationToken cancellationToken)
    {
        var record = await store.ReadAsync(id, cancellationToken);
        return record is null
            ? OperationOutcomes.NotFound($"{Type}/{id} is not known to this server.")
            : new FhirResult(Parse(record));
    }

    private static async Task<FhirResult> SearchAsync(HttpRequest request, IAuditStore store, CancellationToken cancellationToken)
    {
        var query = AuditEventSearch.Parse(request.Query);
        var page = await store.SearchAsync(query, cancellationToken);
        var baseUrl = BaseUrl.Of(request);
        var criteria = request.Query
            .Where(p => p.Key != AuditEventSearch.CursorParameter)
            .SelectMany(p => p.Value.Select(v => new KeyValuePair<string, string>(p.Key, v ?? "")))
            .ToList();
        var bundle = new Bundle
        {
            Id = Guid.NewGuid().ToString("N"),
            Meta = new Meta { LastUpdated = DateTimeOffset.UtcNow },
            Type = Bundle.BundleType.Searchset,
            // Counting a growing trail costs a scan; the total is given only when one page holds every match.
            Total = query.BeforeSequence is null && page.NextBeforeSequence is null ? page.Records.Count : null,
        };
        bundle.Link.Add(Link("self", baseUrl, criteria, query.BeforeSequence));
        if (page.NextBeforeSequence is { } next)
            bundle.Link.Add(Link("next", baseUrl, criteria, next));
        foreach (var record in page.Records)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{Type}/{record.EventId}",
                Resource = Parse(record),
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        return new FhirResult(bundle);
    }

    private static Bundle.LinkComponent Link(string relation, string baseUrl, IReadOnlyList<KeyValuePair<string, string>> criteria, long? cursor)
    {
        IEnumerable<KeyValuePair<string, string>> pairs = cursor is { } c
            ? [.. criteria, new(AuditEventSearch.CursorParameter, c.ToString(System.Globalization.CultureInfo.InvariantCulture))]
            : criteria;
        var query = string.Join("&", pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return new Bundle.LinkComponent { Relation = relation, Url = query.Length == 0 ? $"{baseUrl}/{Type}" : $"{baseUrl}/{Type}?{query}" };
    }

    private static AuditEvent Parse(AuditRecord record) => FhirSerialization.StrictJson.Deserialize<AuditEvent>(record.Json);

    /// <summary>405 with the Allow header RFC 9110 asks for and an OperationOutcome saying why.</summary>
    private sealed class MethodNotAllowedResult(string message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Allow = HttpMethods.Get;
            return OperationOutcomes.Error(StatusCodes.Status405MethodNotAllowed, OperationOutcome.IssueType.NotSupported, message).ExecuteAsync(httpContext);
        }
    }
}
