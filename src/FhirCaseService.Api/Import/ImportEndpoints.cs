using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using FhirCaseService.Api.Export;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage.Import;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Import;

/// <summary>
/// Bulk NDJSON import, server side: the kick-off spools the body and records a job; the status URL answers progress,
/// then a manifest shaped like the export manifest; the error file lists one OperationOutcome per refused line; DELETE
/// cancels. Any replica answers any of them (job state in the database, input on the shared spool directory).
/// </summary>
public static class ImportEndpoints
{
    public const string OperationName = "$import";
    public const string KickOffPath = "/$import";
    public const string StatusPath = "/$import-status";
    public const string FilePath = "/$import-file";
    public const string ErrorFileName = "errors.ndjson";

    /// <summary>Our own OperationDefinition canonical: the Bulk Data IG defines no import operation in version 2.0.0.</summary>
    public const string Definition = "https://fhircase.example.org/fhir/OperationDefinition/import";

    private static readonly string[] AcceptedMediaTypes = ["application/fhir+ndjson", "application/ndjson"];

    public static IEndpointRouteBuilder MapImportEndpoints(this IEndpointRouteBuilder app)
    {
        var maxBytes = app.ServiceProvider.GetRequiredService<IOptions<ImportOptions>>().Value.MaxBodyBytes;
        app.MapPost(KickOffPath, KickOffAsync)
            .RequireClient().WithName("BulkImport").WithTags("Bulk Data")
            .WithMetadata(new RequestBodyLimitMetadata(maxBytes, $"{ImportOptions.Section}:{nameof(ImportOptions.MaxBodyBytes)}"))
            .WithSummary("Bulk import kick-off: one FHIR resource per line (application/fhir+ndjson), stored with update-as-create.")
            .WithDescription("Requires 'Prefer: respond-async'; Content-Encoding gzip accepted. Each line is validated like any write; " +
                             "invalid lines are refused and reported in the error file, the others stored in chunks. Answers 202 with " +
                             "Content-Location: the status URL. Needs write scopes (create and update) on the types imported.");
        app.MapGet(StatusPath + "/{jobId}", StatusAsync)
            .RequireClient().WithName("ImportStatus").WithTags("Bulk Data")
            .WithSummary("Import status: 202 with X-Progress while running, 200 with the manifest when done, 500 when failed.");
        app.MapDelete(StatusPath + "/{jobId}", CancelAsync)
            .RequireClient().WithName("ImportCancel").WithTags("Bulk Data")
            .WithSummary("Cancels the import (chunks already stored stay); the status then answers 404.");
        app.MapGet(FilePath + "/{jobId}/{fileName}", FileAsync)
            .RequireClient().WithName("ImportFile").WithTags("Bulk Data")
            .WithSummary("The error file of a completed import: one OperationOutcome per refused input line (application/fhir+ndjson).")
            .Produces(StatusCodes.Status200OK, contentType: ExportEndpoints.NdjsonContentType);
        return app;
    }

    /// <summary>What every import handler needs, bound as one parameter.</summary>
    internal sealed record ImportServices(IImportJobStore Store, ImportSpool Spool, IFhirAccess Access, ImportRunner Runner, IOptions<ImportOptions> Options);

    private static async Task<IResult> KickOffAsync(HttpContext context, [AsParameters] ImportServices s)
    {
        var request = context.Request;
        RequireRespondAsync(request);
        RequireNdjson(request);
        var gzip = ContentEncodingIsGzip(request);
        var writable = StoredResourceTypes.All.Where(t => s.Access.Allows(context, t, ScopePermissions.Create | ScopePermissions.Update)).ToList();
        if (writable.Count == 0)
            throw ScopeAccess.InsufficientScope(context, "*", ScopePermissions.Create | ScopePermissions.Update);

        var options = s.Options.Value;
        var jobId = Guid.CreateVersion7().ToString("N");
        SpooledInput input;
        try
        {
            await using var body = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
            input = await s.Spool.WriteAsync(jobId, body, options.MaxBodyBytes, context.RequestAborted);
        }
        catch (SpoolLimitExceededException)
        {
            throw RequestBodyLimits.TooLarge(options.MaxBodyBytes, $"{ImportOptions.Section}:{nameof(ImportOptions.MaxBodyBytes)}");
        }
        catch (InvalidDataException)
        {
            throw FhirRequestException.BadRequest("The body is declared gzip (Content-Encoding) but is not a valid gzip stream.");
        }
        if (!input.HasContent)
        {
            ImportSpool.Delete(input.Path);
            throw FhirRequestException.BadRequest("The body is empty: $import needs one FHIR resource (JSON) per line.");
        }

        var baseUrl = SearchRequest.BaseUrl(request);
        var importRequest = new ImportRequest($"{baseUrl}{request.Path}{request.QueryString}", s.Access.ClientId(context),
            input.Path, input.Bytes, input.Lines, writable);
        try
        {
            await s.Store.CreateAsync(jobId, importRequest, context.RequestAborted);
        }
        catch
        {
            ImportSpool.Delete(input.Path);
            throw;
        }
        s.Runner.Wake();

        context.Response.Headers.ContentLocation = $"{baseUrl}{StatusPath}/{jobId}";
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
            $"Import job {jobId} accepted: {input.Lines} lines ({input.Bytes} bytes) stored for import. Poll the Content-Location URL for its status."),
            StatusCodes.Status202Accepted);
    }

    private static void RequireRespondAsync(HttpRequest request)
    {
        foreach (var header in request.Headers["Prefer"])
            foreach (var preference in (header ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (preference.Equals("respond-async", StringComparison.OrdinalIgnoreCase))
                    return;
        throw FhirRequestException.BadRequest("$import runs asynchronously only: send the header 'Prefer: respond-async'.");
    }

    private static void RequireNdjson(HttpRequest request)
    {
        var mediaType = (request.ContentType ?? "").Split(';')[0].Trim();
        if (!AcceptedMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
            throw FhirRequestException.Of(StatusCodes.Status415UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
                $"$import takes NDJSON: Content-Type {string.Join(" or ", AcceptedMediaTypes)} (got '{(mediaType.Length == 0 ? "none" : mediaType)}').");
    }

    private static bool ContentEncodingIsGzip(HttpRequest request)
    {
        var encodings = request.Headers.ContentEncoding.SelectMany(h => (h ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(e => !e.Equals("identity", StringComparison.OrdinalIgnoreCase)).ToList();
        if (encodings.Count == 0)
            return false;
        if (encodings is [var only] && only.Equals("gzip", StringComparison.OrdinalIgnoreCase))
            return true;
        throw FhirRequestException.Of(StatusCodes.Status415UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
            $"$import accepts the body as is or gzip-encoded (Content-Encoding: gzip), not '{string.Join(", ", encodings)}'.");
    }

    private static async Task<IResult> StatusAsync(string jobId, HttpContext context, [AsParameters] ImportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        if (job is null)
            return UnknownJob(jobId);
        switch (job.Status)
        {
            case ImportJobStatus.Queued or ImportJobStatus.Running:
                context.Response.Headers["X-Progress"] = job.Status == ImportJobStatus.Queued
                    ? $"Queued ({job.Request.InputLines} lines)"
                    : $"{job.CommittedLines} of ~{job.Request.InputLines} lines";
                context.Response.Headers.RetryAfter = s.Options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            case ImportJobStatus.Failed:
                return OperationOutcomes.Error(StatusCodes.Status500InternalServerError, OperationOutcome.IssueType.Exception,
                    job.Error ?? "The import failed.");
            default:
                if (job.ExpiresAt is { } expires)
                    context.Response.Headers.Expires = expires.ToString("R", CultureInfo.InvariantCulture);
                return Results.Bytes(Manifest(job, SearchRequest.BaseUrl(context.Request), s.Access.Enabled), "application/json");
        }
    }

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, [AsParameters] ImportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        // The job's row stays for one lease, so a replica still committing a chunk finds it cancelled and stops; the
        // cleanup then removes the row and the spooled input.
        if (job is null || !await s.Store.CancelAsync(jobId, DateTimeOffset.UtcNow + s.Options.Value.Lease, context.RequestAborted))
            return UnknownJob(jobId);
        await s.Runner.StopJobAsync(jobId);
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
            $"Import job {jobId} is cancelled; the {job.CommittedLines} lines already committed stay stored."), StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> FileAsync(string jobId, string fileName, HttpContext context, [AsParameters] ImportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        if (job is not { Status: ImportJobStatus.Completed } || fileName != ErrorFileName)
            return OperationOutcomes.NotFound($"Import file {fileName} of job {jobId} is not available (unknown, not finished, cancelled or expired).");
        context.Response.ContentType = ExportEndpoints.NdjsonContentType;
        var body = context.Response.Body;
        await foreach (var error in s.Store.ReadErrorsAsync(jobId, context.RequestAborted))
        {
            await body.WriteAsync(Encoding.UTF8.GetBytes(error.OperationOutcomeJson + "\n"), context.RequestAborted);
        }
        return Results.Empty;
    }

    /// <summary>The job as this client may see it: null when unknown, cancelled, expired, or (authorization on) another client's.</summary>
    private static async Task<ImportJob?> VisibleJobAsync(string jobId, HttpContext context, ImportServices s)
    {
        var job = await s.Store.GetAsync(jobId, context.RequestAborted);
        if (job is null || job.Status == ImportJobStatus.Cancelled)
            return null;
        if (job.Status is ImportJobStatus.Completed or ImportJobStatus.Failed && job.ExpiresAt <= DateTimeOffset.UtcNow)
            return null;
        if (s.Access.Enabled && !string.Equals(job.Request.ClientId, s.Access.ClientId(context), StringComparison.Ordinal))
            return null;
        return job;
    }

    private static FhirResult UnknownJob(string jobId) =>
        OperationOutcomes.NotFound($"Import job {jobId} is not known here: it never existed, was cancelled, or has expired.");

    /// <summary>
    /// The completion manifest, shaped like the export manifest: transactionTime (every imported version is visible at
    /// it: a later <c>_since</c> export starts after it), the counts per type, and the error file with its count.
    /// </summary>
    private static byte[] Manifest(ImportJob job, string baseUrl, bool requiresAccessToken)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("transactionTime", ExportKickOff.FhirInstant(job.TransactionTime ?? job.UpdatedAt));
            json.WriteString("request", job.Request.RequestUrl);
            json.WriteBoolean("requiresAccessToken", requiresAccessToken);
            json.WriteNumber("inputLines", job.CommittedLines);
            json.WriteStartArray("output");
            foreach (var count in job.Counts)
            {
                json.WriteStartObject();
                json.WriteString("type", count.Type);
                json.WriteNumber("count", count.Accepted);
                json.WriteNumber("created", count.Created);
                json.WriteNumber("updated", count.Updated);
                json.WriteNumber("unchanged", count.Unchanged);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("error");
            if (job.ErrorLines > 0)
            {
                json.WriteStartObject();
                json.WriteString("type", nameof(OperationOutcome));
                json.WriteString("url", $"{baseUrl}{FilePath}/{Uri.EscapeDataString(job.Id)}/{ErrorFileName}");
                json.WriteNumber("count", job.ErrorLines);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
