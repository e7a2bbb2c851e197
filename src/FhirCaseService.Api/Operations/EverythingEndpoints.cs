using System.Globalization;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Operations;

/// <summary>
/// <c>GET</c> or <c>POST Patient/[id]/$everything</c> (POST: parameters in a Parameters body, or none, as client
/// libraries' operation helpers send it): the patient and every resource of its compartment, paged, with <c>_since</c>
/// (changed at or after an instant: a registry's incremental pull) and <c>_type</c> (only these resource types).
/// </summary>
public static class EverythingEndpoints
{
    public const string OperationName = "everything";

    public static IEndpointRouteBuilder MapPatientEverything(this IEndpointRouteBuilder app)
    {
        app.MapGet("/Patient/{id}/$everything", GetEverythingAsync)
            .WithName("PatientEverything").WithTags("Patient")
            .WithSummary("The patient and every resource of its compartment, as a paged searchset Bundle.")
            .WithDescription("Parameters: _since (instant: only resources changed at or after it), _type (comma-separated resource types), " +
                             "_count (page size). Follow the next link for the following page; total counts every resource of the result.")
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .RequireFhirAccess(ScopePermissions.Read, "Patient");
        app.MapPost("/Patient/{id}/$everything", PostEverythingAsync)
            .WithName("PatientEverythingWithPost").WithTags("Patient")
            .WithSummary("$everything with its parameters (_since, _type, _count) in a Parameters body, or with none.")
            .WithDescription("The same result as GET; parameters may also be in the query string. Page links are GET URLs.")
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .RequireFhirAccess(ScopePermissions.Read, "Patient");
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        capabilities.AddOperation(new OperationCapability(OperationName, OperationDefinitions.CanonicalOf(OperationDefinitions.PatientEverythingId)));
        return app;
    }

    private static Task<FhirResult> GetEverythingAsync(string id, HttpRequest request, IResourceStore store, CancellationToken cancellationToken) =>
        EverythingAsync(id, SearchRequest.Parse(request.QueryString.Value), request, store, cancellationToken);

    private static async Task<FhirResult> PostEverythingAsync(string id, HttpRequest request, IResourceStore store, CancellationToken cancellationToken)
    {
        var pairs = SearchRequest.Parse(request.QueryString.Value);
        if (await FhirRequestBody.ReadOptionalAsync(request, cancellationToken) is { } body)
        {
            // FhirClient's FetchPatientRecordAsync sends {"resourceType":"Parameters"} when it has no parameters: the strict
            // parser calls that empty element invalid, but it means "no parameters", as no body would.
            var (parsed, problems) = body.ParseWithFindings();
            if (parsed is Parameters { Parameter.Count: 0 } && problems is not null)
                return await EverythingAsync(id, pairs, request, store, cancellationToken);
            if (problems is not null)
                throw problems;
            if (parsed is not Parameters parameters)
                throw FhirRequestException.BadRequest("POST Patient/[id]/$everything takes a Parameters resource (or no body).", "resourceType");
            foreach (var parameter in parameters.Parameter)
            {
                if (parameter.Value is not PrimitiveType { } value || parameter.Name is null)
                    throw FhirRequestException.BadRequest(
                        $"The parameter '{parameter.Name}' of $everything must have a value[x] of a primitive type.", "Parameters.parameter");
                pairs.Add(new(parameter.Name, value.ToString() ?? ""));
            }
        }
        return await EverythingAsync(id, pairs, request, store, cancellationToken);
    }

    private static async Task<FhirResult> EverythingAsync(string id, List<KeyValuePair<string, string>> pairs, HttpRequest request, IResourceStore store, CancellationToken cancellationToken)
    {
        if (!TryReadQuery(id, pairs, out var query, out var error))
            return OperationOutcomes.Error(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, error!);
        // The patient needs read (the endpoint's rule); every other type the result may hold needs search.
        var access = request.HttpContext.RequestServices.GetRequiredService<IFhirAccess>();
        foreach (var type in query!.Types is { Count: > 0 } types ? types : PatientCompartment.ParametersByType.Keys)
            if (type != "Patient")
                access.Demand(request.HttpContext, type, ScopePermissions.Search);

        var patient = await store.ReadAsync("Patient", id, cancellationToken);
        if (patient.Status == ReadStatus.NotFound)
            return OperationOutcomes.NotFound($"Patient/{id} is not known to this server.");
        if (patient.Status == ReadStatus.Deleted)
            return OperationOutcomes.Error(StatusCodes.Status410Gone, OperationOutcome.IssueType.Deleted, $"Patient/{id} has been deleted.");

        var page = await store.EverythingAsync(query!, cancellationToken);
        var links = pairs.Where(p => p.Key != SearchBundleBuilder.CursorParameter).ToList();
        var builder = new SearchBundleBuilder(SearchRequest.BaseUrl(request), $"/Patient/{id}/$everything", links, UrlLimits.MaxUrlBytes(request));
        return new FhirResult(builder.Build(page, query!.Cursor, ResultSubset.Whole, warnings: null));
    }

    private static bool TryReadQuery(string id, IReadOnlyList<KeyValuePair<string, string>> pairs, out EverythingQuery? query, out string? error)
    {
        query = null;
        error = null;
        DateTimeOffset? since = null;
        int? count = null;
        PageCursor? cursor = null;
        var types = new List<string>();
        foreach (var (name, value) in pairs)
        {
            switch (name)
            {
                case "_since":
                    if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant) || !value.Contains('T'))
                    {
                        error = $"_since must be an instant with a time zone (e.g. 2025-01-31T10:00:00Z), not '{value}'.";
                        return false;
                    }
                    since = instant;
                    break;
                case "_type":
                    foreach (var type in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!ModelInfo.IsKnownResource(type))
                        {
                            error = $"_type lists '{type}', which is not a FHIR R4 resource type.";
                            return false;
                        }
                        types.Add(type);
                    }
                    break;
                case "_count":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
                    {
                        error = $"_count must be a non-negative whole number, not '{value}'.";
                        return false;
                    }
                    count = size;
                    break;
                case SearchBundleBuilder.CursorParameter:
                    if (!PageCursor.TryParse(value, out cursor))
                    {
                        error = $"_cursor '{value}' is not a page cursor this server issued.";
                        return false;
                    }
                    break;
            }
        }
        query = new EverythingQuery(id, since, types, count, cursor);
        return true;
    }
}
