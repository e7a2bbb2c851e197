using System.IO.Compression;
using System.Text;
using FhirCaseService.Api.Export;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Jobs;
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
        app.MapJobStatusRoutes("Import", StatusPath, FilePath, StatusAsync, CancelAsync, FileAsync,
            cancelSummary: "Cancels the import (chunks already stored stay); the status then answers 404.",
            fileSummary: "The error file of a completed import: one OperationOutcome per refused input line (application/fhir+ndjson).");
        return app;
    }

    /// <summary>What every import handler needs, bound as one parameter.</summary>
    internal sealed record ImportServices(IImportJobStore Store, ImportSpool Spool, IFhirAccess Access, ImportRunner Runner, IOptions<ImportOptions> Options)
    {
        public LeasedJobEndpoints<ImportJob> Jobs => new("Import", Store, Access, Options.Value);
    }

    private static async Task<IResult> KickOffAsync(HttpContext context, [AsParameters] ImportServices s)
    {
        var request = context.Request;
        LeasedJobEndpoints<ImportJob>.RequireRespondAsync(request, OperationName);
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
        return LeasedJobEndpoints<ImportJob>.Accepted(context, StatusPath, jobId,
            $"Import job {jobId} accepted: {input.Lines} lines ({input.Bytes} bytes) stored for import. Poll the Content-Location URL for its status.");
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

    private static Task<IResult> StatusAsync(string jobId, HttpContext context, [AsParameters] ImportServices s) =>
        s.Jobs.StatusAsync(jobId, context,
            job => job.Status == ImportJobStatus.Queued ? $"Queued ({job.Request.InputLines} lines)" : $"{job.CommittedLines} of ~{job.Request.InputLines} lines",
            (job, baseUrl) => Manifest(job, baseUrl, s.Access.Enabled));

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, [AsParameters] ImportServices s)
    {
        // The job's row stays for one lease, so a replica still committing a chunk finds it cancelled and stops; the
        // cleanup then removes the row and the spooled input.
        var job = await s.Jobs.CancelAsync(jobId, context, s.Runner.StopJobAsync);
        if (job is null)
            return s.Jobs.UnknownJob(jobId);
        return LeasedJobEndpoints<ImportJob>.Informational(
            $"Import job {jobId} is cancelled; the {job.CommittedLines} lines already committed stay stored.");
    }

    private static async Task<IResult> FileAsync(string jobId, string fileName, HttpContext context, [AsParameters] ImportServices s)
    {
        var job = await s.Jobs.VisibleJobAsync(jobId, context);
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

    /// <summary>
    /// The completion manifest, shaped like the export manifest: transactionTime (every imported version is visible at
    /// it: a later <c>_since</c> export starts after it), the counts per type, and the error file with its count.
    /// </summary>
    private static byte[] Manifest(ImportJob job, string baseUrl, bool requiresAccessToken) =>
        JobManifest.Write(job.TransactionTime ?? job.UpdatedAt, job.Request.RequestUrl, requiresAccessToken, json =>
        {
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
                JobManifest.WriteFile(json, nameof(OperationOutcome), $"{baseUrl}{FilePath}/{Uri.EscapeDataString(job.Id)}/{ErrorFileName}", job.ErrorLines);
            json.WriteEndArray();
        });
}
