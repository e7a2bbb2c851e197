using System.Text.Json;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Jobs;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage.Export;
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
        app.MapJobStatusRoutes("Export", StatusPath, FilePath, StatusAsync, CancelAsync, FileAsync,
            cancelSummary: "Cancels the export and removes its files; the status then answers 404.",
            fileSummary: "One NDJSON file of a completed export (application/fhir+ndjson).");
        return app;
    }

    /// <summary>What every export handler needs, bound as one parameter.</summary>
    public sealed record ExportServices(IExportJobStore Store, IExportFiles Files, IFhirAccess Access, ExportRunner Runner, IOptions<ExportOptions> Options)
    {
        internal LeasedJobEndpoints<ExportJob> Jobs => new("Export", Store, Access, Options.Value);
    }

    private static async Task<IResult> KickOffAsync(HttpContext context, ExportLevel level, string? groupId, ExportServices s)
    {
        var request = context.Request;
        LeasedJobEndpoints<ExportJob>.RequireRespondAsync(request, "$export");
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
        return LeasedJobEndpoints<ExportJob>.Accepted(context, StatusPath, job.Id,
            $"Export job {job.Id} accepted: {string.Join(", ", parameters.Types)}. Poll the Content-Location URL for its status.");
    }

    private static Task<IResult> StatusAsync(string jobId, HttpContext context, [AsParameters] ExportServices s) =>
        s.Jobs.StatusAsync(jobId, context, ProgressText, (job, baseUrl) => Manifest(job, baseUrl, s.Access.Enabled));

    private static async Task<IResult> CancelAsync(string jobId, HttpContext context, [AsParameters] ExportServices s)
    {
        // Until the lease of a replica that may still be writing has lapsed, the cleanup keeps the job's row, so the
        // files it might still add are removed once more then.
        var job = await s.Jobs.CancelAsync(jobId, context, s.Runner.StopJobAsync);
        if (job is null)
            return s.Jobs.UnknownJob(jobId);
        await s.Files.DeleteJobAsync(jobId, ExportJobFiles.KnownNames(job), context.RequestAborted);
        return LeasedJobEndpoints<ExportJob>.Informational($"Export job {jobId} is cancelled and its files are removed.");
    }

    private static async Task<IResult> FileAsync(string jobId, string fileName, HttpContext context, [AsParameters] ExportServices s)
    {
        var job = await s.Jobs.VisibleJobAsync(jobId, context);
        if (job is not { Status: ExportJobStatus.Completed, ResultJson: { } resultJson } || !ExportResult.Deserialize(resultJson).Contains(fileName))
            return OperationOutcomes.NotFound($"Export file {fileName} of job {jobId} is not available (unknown, cancelled or expired).");
        context.Response.ContentType = NdjsonContentType;
        if (await s.Files.CopyToAsync(jobId, fileName, context.Response.Body, context.RequestAborted))
            return Results.Empty;
        return OperationOutcomes.NotFound($"Export file {fileName} of job {jobId} is no longer stored.");
    }

    private static string ProgressText(ExportJob job)
    {
        if (job.Status == ExportJobStatus.Queued)
            return "Queued";
        var checkpoint = ExportCheckpoint.Deserialize(job.ProgressJson);
        var current = checkpoint?.Current;
        if (checkpoint is null || current is null)
            return "Running";
        var done = checkpoint.Types.Count(t => t.Done);
        return $"{current.Type}: {current.Written} resources written ({done} of {checkpoint.Types.Count} types done)";
    }

    /// <summary>
    /// The completion manifest (IG 2.0.0): transactionTime is the job's pinned snapshot, fit to be the next export's _since;
    /// deleted lists the files of deletion Bundles (empty unless the export had _since).
    /// </summary>
    private static byte[] Manifest(ExportJob job, string baseUrl, bool requiresAccessToken)
    {
        var result = ExportResult.Deserialize(job.ResultJson ?? throw new InvalidOperationException($"Export job {job.Id} completed without a result."));
        return JobManifest.Write(job.TransactionTime.LastUpdated, job.Request.RequestUrl, requiresAccessToken, json =>
        {
            WriteFiles(json, "output", result.Output, job.Id, baseUrl, withCount: true);
            WriteFiles(json, "error", result.Errors, job.Id, baseUrl, withCount: false);
            WriteFiles(json, "deleted", result.Deleted, job.Id, baseUrl, withCount: true);
        });
    }

    private static void WriteFiles(Utf8JsonWriter json, string name, IEnumerable<ExportFileEntry> files, string jobId, string baseUrl, bool withCount)
    {
        json.WriteStartArray(name);
        foreach (var file in files)
            JobManifest.WriteFile(json, file.Type, $"{baseUrl}{FilePath}/{Uri.EscapeDataString(jobId)}/{Uri.EscapeDataString(file.Name)}",
                withCount ? file.Count : null);
        json.WriteEndArray();
    }
}
