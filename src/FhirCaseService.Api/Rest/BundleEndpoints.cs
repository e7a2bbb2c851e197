using System.Diagnostics;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Security;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// <c>POST /</c> with a transaction Bundle (validated as a whole first: any error rejects it with 422 and nothing is
/// written) or a batch Bundle (entries with errors answer 422 in their response entry; the others run).
/// </summary>
public static class BundleEndpoints
{
    public static IEndpointRouteBuilder MapBundles(this IEndpointRouteBuilder app)
    {
        app.MapPost("/", ProcessAsync)
            .WithName("TransactionOrBatch").WithTags("System")
            .WithSummary("Execute a transaction Bundle (atomic; urn:uuid fullUrls become server ids in every reference) or a batch Bundle (independent entries).")
            .WithDescription("Entries run in the spec's order: DELETE, POST, PUT, GET. Conditional references (Patient?identifier=system|value) resolve to the single match. " +
                "A transaction with a validation error answers 422 and writes nothing; each issue's expression starts with Bundle.entry[n] and its diagnostics name the entry's fullUrl.")
            // The body's media type is checked by FhirRequestBody (415 with an OperationOutcome, application/json and
            // application/xml included), not by routing, which would answer before authorization and without one.
            .Produces(StatusCodes.Status200OK, contentType: FhirFormat.JsonContentType, additionalContentTypes: [FhirFormat.XmlContentType])
            .RequireClient();
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        capabilities.AddSystemInteraction(CapabilityStatement.SystemRestfulInteraction.Transaction);
        capabilities.AddSystemInteraction(CapabilityStatement.SystemRestfulInteraction.Batch);
        return app;
    }

    /// <summary>The body is read once and parsed once; that one value is validated (every entry exactly once) and run.</summary>
    private static async Task<FhirResult> ProcessAsync(
        HttpRequest request, WriteValidation validation, BundleProcessor processor, WriteMetrics metrics, CancellationToken cancellationToken)
    {
        WriteMetrics.MarkStart(request.HttpContext);
        var body = await FhirRequestBody.ReadAsync(request, cancellationToken);
        var parsing = Stopwatch.GetTimestamp();
        var instance = WriteValidation.Parse(body);
        metrics.RecordStage("parse", Stopwatch.GetElapsedTime(parsing));
        if (instance.Resource is null)
            throw new FhirRequestException(StatusCodes.Status400BadRequest,
                new Validation.ValidationResult([.. instance.Issues.Select(i => i.Issue)]).ToOperationOutcome());
        // The Bundle may be partial (a wrong-shaped element the parser kept as found): its type and entries are read raw,
        // never through the SDK's typed getters, which throw on such values.
        var typeCode = instance.Resource is Bundle sent ? RawBundle.TypeCode(sent) : null;
        if (instance.Resource is not Bundle bundle || typeCode is not ("transaction" or "batch"))
            throw FhirRequestException.BadRequest(
                $"POST / takes a Bundle of type transaction or batch; this is {(instance.Resource is Bundle ? $"a Bundle of type {typeCode ?? "(none or unreadable)"}" : $"a {instance.Resource.TypeName}")}.",
                "Bundle.type");
        var validating = Stopwatch.GetTimestamp();
        var result = await validation.ValidateAsync(instance, cancellationToken);
        if (!RawBundle.HasWellFormedEntries(bundle))
            throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity,
                result.HasErrors ? result.ToOperationOutcome()
                    : OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                        "Bundle.entry must be an array of entry objects."));
        var verdict = BundleVerdict.Of(result, bundle);
        metrics.RecordStage("validate", Stopwatch.GetElapsedTime(validating));
        var baseUrl = BaseUrl.Of(request);
        var prefer = PreferHeader.ReturnOf(request);

        if (bundle.Type == Bundle.BundleType.Transaction)
        {
            verdict.ThrowIfInvalid();
            return new FhirResult(await processor.RunTransactionAsync(bundle, verdict, baseUrl, prefer, cancellationToken));
        }
        // A batch: errors about the Bundle itself refuse it; an entry's errors (the parser's included) set that entry aside.
        if (verdict.BundleHasErrors)
            throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity, verdict.BundleOutcome());
        return new FhirResult(await processor.RunBatchAsync(bundle, verdict, baseUrl, prefer, cancellationToken));
    }
}
