using System.Globalization;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage.Jobs;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Jobs;

/// <summary>
/// What the kick-off, status and cancel endpoints of every leased job kind share (the asynchronous request pattern of
/// the Bulk Data Access IG 2.0.0): the 202 with Content-Location, who may see a job, the status answer (202 with
/// X-Progress, 500 with the error, or the manifest), cancelling, and the answer for a job that is not known.
/// </summary>
/// <param name="kind">The job kind as messages name it ("Export").</param>
internal sealed class LeasedJobEndpoints<TJob>(string kind, ILeasedJobStore<TJob> store, IFhirAccess access, ILeasedJobOptions options)
    where TJob : class, ILeasedJob
{
    private const string RespondAsync = "respond-async";

    /// <summary>The kick-off must ask for asynchronous processing; any other answer would be a synchronous one we do not offer.</summary>
    public static void RequireRespondAsync(HttpRequest request, string operation)
    {
        foreach (var header in request.Headers["Prefer"])
            foreach (var preference in (header ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (preference.Equals(RespondAsync, StringComparison.OrdinalIgnoreCase))
                    return;
        throw FhirRequestException.BadRequest($"{operation} runs asynchronously only: send the header 'Prefer: {RespondAsync}'.");
    }

    /// <summary>The kick-off's answer: 202, Content-Location the job's status URL, and <paramref name="message"/> as information.</summary>
    public static FhirResult Accepted(HttpContext context, string statusPath, string jobId, string message)
    {
        context.Response.Headers.ContentLocation = $"{SearchRequest.BaseUrl(context.Request)}{statusPath}/{jobId}";
        return Informational(message);
    }

    /// <summary>202 with <paramref name="message"/> as an informational OperationOutcome.</summary>
    public static FhirResult Informational(string message) =>
        new(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, message),
            StatusCodes.Status202Accepted);

    /// <summary>
    /// The job as this client may see it: null when unknown, cancelled, expired, or (with authorization on) another
    /// client's, so a job id reveals nothing to those who did not start it.
    /// </summary>
    public async Task<TJob?> VisibleJobAsync(string jobId, HttpContext context)
    {
        var job = await store.GetAsync(jobId, context.RequestAborted);
        if (job is null || job.LeasedStatus == LeasedJobStatus.Cancelled)
            return null;
        if (job.LeasedStatus is LeasedJobStatus.Completed or LeasedJobStatus.Failed && job.ExpiresAt <= DateTimeOffset.UtcNow)
            return null;
        if (access.Enabled && !string.Equals(job.ClientId, access.ClientId(context), StringComparison.Ordinal))
            return null;
        return job;
    }

    /// <summary>
    /// The status URL's answer: 202 with X-Progress (<paramref name="progress"/>) and Retry-After while queued or
    /// running, 500 with the error when failed, 200 with the manifest (<paramref name="manifest"/>, given the base URL)
    /// and Expires when completed; 404 for a job this client may not see.
    /// </summary>
    public async Task<IResult> StatusAsync(string jobId, HttpContext context, Func<TJob, string> progress, Func<TJob, string, byte[]> manifest)
    {
        var job = await VisibleJobAsync(jobId, context);
        if (job is null)
            return UnknownJob(jobId);
        switch (job.LeasedStatus)
        {
            case LeasedJobStatus.Queued or LeasedJobStatus.Running:
                context.Response.Headers["X-Progress"] = progress(job);
                context.Response.Headers.RetryAfter = options.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.StatusCode(StatusCodes.Status202Accepted);
            case LeasedJobStatus.Failed:
                return OperationOutcomes.Error(StatusCodes.Status500InternalServerError, OperationOutcome.IssueType.Exception,
                    job.Error ?? $"The {kind.ToLowerInvariant()} failed.");
            default:
                if (job.ExpiresAt is { } expires)
                    context.Response.Headers.Expires = expires.ToString("R", CultureInfo.InvariantCulture);
                return Results.Bytes(manifest(job, SearchRequest.BaseUrl(context.Request)), "application/json");
        }
    }

    /// <summary>
    /// Cancels the job if this client may see it, and stops its run if this replica runs it (<paramref name="stopRun"/>).
    /// The job's row stays for one lease, so a replica still working on it finds it cancelled and stops; the cleanup
    /// then removes it. Null (answer <see cref="UnknownJob"/>) when there was nothing to cancel.
    /// </summary>
    public async Task<TJob?> CancelAsync(string jobId, HttpContext context, Func<string, Task> stopRun)
    {
        var job = await VisibleJobAsync(jobId, context);
        if (job is null || !await store.CancelAsync(jobId, DateTimeOffset.UtcNow + options.Lease, context.RequestAborted))
            return null;
        await stopRun(jobId);
        return job;
    }

    public FhirResult UnknownJob(string jobId) =>
        OperationOutcomes.NotFound($"{kind} job {jobId} is not known here: it never existed, was cancelled, or has expired.");
}
