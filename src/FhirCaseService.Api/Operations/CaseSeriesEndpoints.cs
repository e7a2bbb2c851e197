using System.Text.Json;
using FhirCaseService.Api.App;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.CaseSeries;
using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Schema;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FhirCaseService.Api.Operations;

/// <summary>
/// The case series over HTTP: <c>$convert-case-series</c> (record -> transaction Bundle, nothing stored),
/// <c>$import-case-series</c> (record -> validated, stored atomically), <c>$case-series-summary</c> (cohort numbers from
/// the stored resources) and the record's JSON Schema at a stable URL.
/// </summary>
public static class CaseSeriesEndpoints
{
    public const string SchemaPath = "/schemas/case-series.schema.json";
    public const string RecordContentType = "application/json";
    public const string SchemaMediaType = "application/schema+json";

    /// <summary>The summary's plain JSON form: the same property names as <c>fhircase summary --json</c>.</summary>
    private static readonly JsonSerializerOptions SummaryJson = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapCaseSeriesOperations(this IEndpointRouteBuilder app)
    {
        app.MapPost("/$convert-case-series", ConvertAsync)
            .WithName("ConvertCaseSeries").WithTags("Case series")
            .WithSummary("Convert a case-series record into its transaction Bundle without storing anything.")
            .WithDescription($"The body is a case-series record (JSON Schema: {SchemaPath}). A record that breaks the input rules answers 400 with an OperationOutcome whose issues name the field (expression), the rule and the line.")
            .Accepts<JsonElement>(RecordContentType)
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .Produces(StatusCodes.Status400BadRequest, contentType: FhirFormat.JsonContentType)
            .RequireClient();
        app.MapPost("/$import-case-series", ImportAsync)
            .WithName("ImportCaseSeries").WithTags("Case series")
            .WithSummary("Convert, validate and store a case-series record in one transaction; answers the transaction-response Bundle.")
            .WithDescription($"The body is a case-series record (JSON Schema: {SchemaPath}). All or nothing: a record that breaks the input rules answers 400, " +
                             "generated resources that fail validation answer 422 with the OperationOutcome, and nothing is stored. " +
                             "Ids are deterministic, so importing the same record again changes nothing. Prefer: return=minimal|representation|OperationOutcome applies to the entries.")
            .Accepts<JsonElement>(RecordContentType)
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .Produces(StatusCodes.Status400BadRequest, contentType: FhirFormat.JsonContentType)
            .Produces(StatusCodes.Status422UnprocessableEntity, contentType: FhirFormat.JsonContentType)
            .RequireClient();
        app.MapGet("/$case-series-summary", SummaryAsync)
            .WithName("CaseSeriesSummary").WithTags("Case series")
            .WithSummary("The cohort's headline numbers computed from the stored resources (all patients, or ?group=ID).")
            .WithDescription("JSON by default; a FHIR Parameters resource when Accept is application/fhir+json or application/fhir+xml (or _format asks for it).")
            .Produces<CohortSummary>(StatusCodes.Status200OK, RecordContentType)
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .RequireFhirAccessToEach(ScopePermissions.Search, StoredCohortReader.SummaryTypes);
        app.MapGet(SchemaPath, GetSchema)
            .WithName("CaseSeriesSchema").WithTags("Case series")
            .WithSummary("The JSON Schema (draft 2020-12) of a case-series record, the body of $convert-case-series and $import-case-series.")
            .Produces(StatusCodes.Status200OK, contentType: SchemaMediaType)
            .AllowPublicAccess();

        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        capabilities.AddOperation(new OperationCapability(OperationDefinitions.ConvertCaseSeriesId, OperationDefinitions.CanonicalOf(OperationDefinitions.ConvertCaseSeriesId)));
        capabilities.AddOperation(new OperationCapability(OperationDefinitions.ImportCaseSeriesId, OperationDefinitions.CanonicalOf(OperationDefinitions.ImportCaseSeriesId)));
        capabilities.AddOperation(new OperationCapability(OperationDefinitions.CaseSeriesSummaryId, OperationDefinitions.CanonicalOf(OperationDefinitions.CaseSeriesSummaryId)));
        return app;
    }

    private static async Task<FhirResult> ConvertAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var conversion = CaseSeriesConverter.Convert(await ReadBodyAsync(request, cancellationToken));
        return conversion.Bundle is { } bundle
            ? new FhirResult(bundle)
            : new FhirResult(InputErrorOutcome(conversion.Errors), StatusCodes.Status400BadRequest);
    }

    /// <summary>The same transaction machinery as <c>POST /</c>: validated as a whole (each resource once), prepared, then one store transaction.</summary>
    private static async Task<FhirResult> ImportAsync(HttpRequest request, BundleProcessor processor, CancellationToken cancellationToken)
    {
        WriteMetrics.MarkStart(request.HttpContext);
        var conversion = CaseSeriesConverter.Convert(await ReadBodyAsync(request, cancellationToken));
        if (conversion.Bundle is not { } bundle)
            return new FhirResult(InputErrorOutcome(conversion.Errors), StatusCodes.Status400BadRequest);
        // Importing creates or updates each type the record yields: both, since a re-import updates what it created.
        var access = request.HttpContext.RequestServices.GetRequiredService<IFhirAccess>();
        foreach (var type in bundle.Entry.Select(e => e.Resource?.TypeName).OfType<string>().Distinct(StringComparer.Ordinal))
            access.Demand(request.HttpContext, type, ScopePermissions.Create | ScopePermissions.Update);
        var response = await processor.ValidateAndRunTransactionAsync(bundle, SearchRequest.BaseUrl(request), PreferHeader.ReturnOf(request), cancellationToken);
        return new FhirResult(response);
    }

    private static async Task<Results<JsonHttpResult<CohortSummary>, FhirResult>> SummaryAsync(
        string? group, HttpRequest request, IResourceStore store, CancellationToken cancellationToken)
    {
        Group? found = null;
        if (group is not null)
        {
            request.HttpContext.RequestServices.GetRequiredService<IFhirAccess>().Demand(request.HttpContext, "Group", ScopePermissions.Read);
            var read = await store.ReadAsync("Group", group, cancellationToken);
            if (read.Status != ReadStatus.Found || read.Version?.Resource is not Group stored)
                return OperationOutcomes.NotFound($"Group/{group} is not a stored case series.");
            found = stored;
        }
        var summary = (await request.HttpContext.RequestServices.GetRequiredService<CohortSummaryCache>().GetAsync(store, found, cancellationToken)).Summary;
        return WantsFhir(request)
            ? new FhirResult(CaseSeriesSummaryParameters.From(summary))
            : TypedResults.Json(summary, SummaryJson);
    }

    private static IResult GetSchema() =>
        TypedResults.Stream(CaseSeriesSchema.Open(), SchemaMediaType);

    /// <summary>FHIR when the client names a FHIR media type or _format; the plain JSON form otherwise.</summary>
    private static bool WantsFhir(HttpRequest request)
    {
        if (!string.IsNullOrEmpty(request.Query["_format"]))
            return true;
        return request.GetTypedHeaders().Accept.Any(a =>
            a.MediaType.Value is FhirFormat.JsonContentType or FhirFormat.XmlContentType or "application/xml" or "text/xml");
    }

    internal static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>One issue per input error: the field path as expression, the rule in details, line/column in the standard extensions.</summary>
    internal static OperationOutcome InputErrorOutcome(IEnumerable<InputError> errors)
    {
        var outcome = new OperationOutcome();
        foreach (var error in errors)
        {
            var issue = new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Error,
                Code = IssueTypeOf(error.Rule),
                Details = new CodeableConcept { Text = error.Rule },
                Diagnostics = $"{(error.Path.Length == 0 ? "(record)" : error.Path)}: {error.Message}",
                Expression = error.Path.Length == 0 ? [] : [error.Path],
            };
            if (error.Line is int line)
                issue.Extension.Add(new Extension(ValidationResult.IssueLineExtension, new Integer(line)));
            if (error.Column is int column)
                issue.Extension.Add(new Extension(ValidationResult.IssueColumnExtension, new Integer(column)));
            outcome.Issue.Add(issue);
        }
        return outcome;
    }

    private static OperationOutcome.IssueType IssueTypeOf(string rule) => rule switch
    {
        InputRules.InvalidJson or InputRules.WrongType or InputRules.UnknownField => OperationOutcome.IssueType.Structure,
        InputRules.Missing => OperationOutcome.IssueType.Required,
        InputRules.UnknownCode => OperationOutcome.IssueType.CodeInvalid,
        InputRules.Duplicate => OperationOutcome.IssueType.Duplicate,
        InputRules.DateOrder => OperationOutcome.IssueType.BusinessRule,
        InputRules.UnknownReference => OperationOutcome.IssueType.NotFound,
        _ => OperationOutcome.IssueType.Value,
    };
}
