using System.Globalization;
using System.Text.Json;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Export;

/// <summary>
/// Bulk Data Access IG 2.0.0, server side: kick-off at system, Patient and Group level, the status endpoint (progress,
/// manifest, cancel) and the files. Any replica answers any of them: everything they need is in the database (and the
/// shared output directory).
/// </summary>
public static class ExportEndpoints
{
    public const string NdjsonContentType = "application/fhir+ndjson";
    public const string StatusPath = "/$export-status";
    public const string FilePath = "/$export-file";

    /// <summary>Canonical OperationDefinitions of the IG (the server implements them as published).</summary>
    public const string SystemExportDefinition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export";
    public const string PatientExportDefinition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export";
    public const string GroupExportDefinition = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export";

    private static readonly string[] KickOffMethods = [HttpMethods.Get, HttpMethods.Post];

    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder app)
    {
        const string kickOffDescription =
            "Requires 'Prefer: respond-async'. Parameters (query string, or a Parameters body for POST): _outputFormat " +
            "(application/fhir+ndjson), _since (instant), _type (comma-separated), _typeFilter (Type?search, repeatable), " +
            "patient (POST only, Patient and Group level). Answers 202 with Content-Location: the status URL.";
        app.MapMethods("/$export", KickOffMethods, (HttpContext context, [AsParameters] ExportServices services) =>
                KickOffAsync(context, ExportLevel.System, null, services))
            .RequireClient().WithName("SystemExport").WithTags("Bulk Data")
            .WithSummary("Bulk Data kick-off: every resource of the requested types.").WithDescription(kickOffDescription);
        app.MapMethods("/Patient/$export", KickOffMethods, (HttpContext context, [AsParameters] ExportServices services) =>
                KickOffAsync(context, ExportLevel.Patient, null, services))
            .RequireClient().WithName("PatientExport").WithTags("Bulk Data")
            .WithSummary("Bulk Data kick-off: the compartments of all patients (or of the POSTed patients).").WithDescription(kickOffDescription);
        app.MapMethods("/Group/{id}/$export", KickOffMethods, (HttpContext context, string id, [AsParameters] ExportServices services) =>
                KickOffAsync(context, ExportLevel.Group, id, services))
            .RequireClient().WithName("GroupExport").WithTags("Bulk Data")
            .WithSummary("Bulk Data kick-off: the compartments of the group's member patients (a case series).").WithDescription(kickOffDescription);
        app.MapGet(StatusPath + "/{jobId}", StatusAsync)
            .RequireClient().WithName("ExportStatus").WithTags("Bulk Data")
            .WithSummary("Export status: 202 with X-Progress while running, 200 with the manifest when done, 500 when failed.");
        app.MapDelete(StatusPath + "/{jobId}", CancelAsync)
            .RequireClient().WithName("ExportCancel").WithTags("Bulk Data")
            .WithSummary("Cancels the export and removes its files; the status then answers 404.");
        app.MapGet(FilePath + "/{jobId}/{fileName}", FileAsync)
            .RequireClient().WithName("ExportFile").WithTags("Bulk Data")
            .WithSummary("One NDJSON file of a completed export (application/fhir+ndjson).")
            .Produces(StatusCodes.Status200OK, contentType: NdjsonContentType);
        return app;
    }

    /// <summary>What every export handler needs, bound as one parameter.</summary>
    public sealed record ExportServices(IExportJobStore Store, IExportFiles Files, IFhirAccess Access, ExportRunner Runner, IOptions<ExportOptions> Options);

    private static async Task<IResult> KickOffAsync(HttpContext context, ExportLevel level, string? groupId, ExportServices s)
    {
        var request = context.Request;
        ExportKickOff.RequireRespondAsync(request);
        var parameters = await ExportKickOff.ReadAsync(request, level, context.RequestAborted);
        foreach (var type in parameters.Types)
            s.Access.Demand(context, type, ScopePermissions.Read | ScopePermissions.Search);

        var baseUrl = SearchRequest.BaseUrl(request);
        // With _since the registry holds an earlier state: it learns of deletions since then too (the manifest's deleted array).
        var exportRequest = new ExportRequest(level, groupId, parameters.Types, parameters.Since, parameters.TypeFilters, parameters.PatientIds,
            $"{baseUrl}{request.Path}{request.QueryString}", s.Access.ClientId(context), IncludeDeleted: parameters.Since is not null);
        ExportJob job;
        try
        {
            job = await s.Store.CreateAsync(exportRequest, context.RequestAborted);
        }
        catch (ExportGroupNotFoundException e)
        {
            return OperationOutcomes.NotFound(e.Message);
        }
        s.Runner.Wake();

        context.Response.Headers.ContentLocation = $"{baseUrl}{StatusPath}/{job.Id}";
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
            $"Export job {job.Id} accepted: {string.Join(", ", parameters.Types)}. Poll the Content-Location URL for its status."),
            StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> StatusAsync(string jobId, HttpContext context, [AsParameters] ExportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        if (job is null)
            return UnknownJob(jobId);
        switch (job.Status)
        {
            case ExportJobStatus.Queued or ExportJobStatus.Running:
                context.Response.Headers["X-Progress"] = ProgressText(job);
                context.Response.Headers.RetryAfter = s.Options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            case ExportJobStatus.Failed:
                return OperationOutcomes.Error(StatusCodes.Status500InternalServerError, OperationOutcome.IssueType.Exception,
                    job.Error ?? "The export failed.");
            default:
                if (job.ExpiresAt is { } expires)
                    context.Response.Headers.Expires = expires.ToString("R", CultureInfo.InvariantCulture);
                return Results.Bytes(Manifest(job, SearchRequest.BaseUrl(context.Request), s.Access.Enabled), "application/json");
        }
    }

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, [AsParameters] ExportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        // Until the lease of a replica that may still be writing has lapsed, the cleanup keeps the job's row, so the
        // files it might still add are removed once more then.
        if (job is null || !await s.Store.CancelAsync(jobId, DateTimeOffset.UtcNow + s.Options.Value.Lease, context.RequestAborted))
            return UnknownJob(jobId);
        await s.Runner.StopJobAsync(jobId);
        await s.Files.DeleteJobAsync(jobId, ExportJobFiles.KnownNames(job), context.RequestAborted);
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational,
            $"Export job {jobId} is cancelled and its files are removed."), StatusCodes.Status202Accepted);
    }

    private static async Task<IResult> FileAsync(string jobId, string fileName, HttpContext context, [AsParameters] ExportServices s)
    {
        var job = await VisibleJobAsync(jobId, context, s);
        if (job is not { Status: ExportJobStatus.Completed, ResultJson: { } resultJson } || !ExportResult.Deserialize(resultJson).Contains(fileName))
            return OperationOutcomes.NotFound($"Export file {fileName} of job {jobId} is not available (unknown, cancelled or expired).");
        context.Response.ContentType = NdjsonContentType;
        if (await s.Files.CopyToAsync(jobId, fileName, context.Response.Body, context.RequestAborted))
            return Results.Empty;
        return OperationOutcomes.NotFound($"Export file {fileName} of job {jobId} is no longer stored.");
    }

    /// <summary>
    /// The job as this client may see it: null when unknown, cancelled, expired, or (with authorization on) another
    /// client's, so a job id reveals nothing to those who did not start it.
    /// </summary>
    private static async Task<ExportJob?> VisibleJobAsync(string jobId, HttpContext context, ExportServices s)
    {
        var job = await s.Store.GetAsync(jobId, context.RequestAborted);
        if (job is null || job.Status == ExportJobStatus.Cancelled)
            return null;
        if (job.Status is ExportJobStatus.Completed or ExportJobStatus.Failed && job.ExpiresAt <= DateTimeOffset.UtcNow)
            return null;
        if (s.Access.Enabled && !string.Equals(job.Request.ClientId, s.Access.ClientId(context), StringComparison.Ordinal))
            return null;
        return job;
    }

    private static FhirResult UnknownJob(string jobId) =>
        OperationOutcomes.NotFound($"Export job {jobId} is not known here: it never existed, was cancelled, or has expired.");

    private static string ProgressText(ExportJob job)
    {
        if (job.Status == ExportJobStatus.Queued)
            return "Queued";
        var progress = ExportProgress.Deserialize(job.ProgressJson);
        var current = progress?.Current;
        if (progress is null || current is null)
            return "Running";
        var done = progress.Types.Count(t => t.Done);
        return $"{current.Type}: {current.Written} resources written ({done} of {progress.Types.Count} types done)";
    }

    /// <summary>
    /// The completion manifest (IG 2.0.0): transactionTime is the job's pinned snapshot, fit to be the next export's _since;
    /// deleted lists the files of deletion Bundles (empty unless the export had _since).
    /// </summary>
    private static byte[] Manifest(ExportJob job, string baseUrl, bool requiresAccessToken)
    {
        var result = ExportResult.Deserialize(job.ResultJson ?? throw new InvalidOperationException($"Export job {job.Id} completed without a result."));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("transactionTime", ExportKickOff.FhirInstant(job.TransactionTime.LastUpdated));
            json.WriteString("request", job.Request.RequestUrl);
            json.WriteBoolean("requiresAccessToken", requiresAccessToken);
            WriteFiles(json, "output", result.Output, job.Id, baseUrl, withCount: true);
            WriteFiles(json, "error", result.Errors, job.Id, baseUrl, withCount: false);
            WriteFiles(json, "deleted", result.Deleted, job.Id, baseUrl, withCount: true);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteFiles(Utf8JsonWriter json, string name, IEnumerable<ExportFileEntry> files, string jobId, string baseUrl, bool withCount)
    {
        json.WriteStartArray(name);
        foreach (var file in files)
        {
            json.WriteStartObject();
            json.WriteString("type", file.Type);
            json.WriteString("url", $"{baseUrl}{FilePath}/{Uri.EscapeDataString(jobId)}/{Uri.EscapeDataString(file.Name)}");
            if (withCount)
                json.WriteNumber("count", file.Count);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
