using FhirCaseService.Api.Export;
using FhirCaseService.Api.Security;

namespace FhirCaseService.Api.Jobs;

/// <summary>The routes every leased job kind has after its kick-off: the status URL (GET answers, DELETE cancels) and the file URL.</summary>
internal static class JobStatusRoutes
{
    /// <summary>
    /// Maps <c>GET</c> and <c>DELETE {statusPath}/{jobId}</c> and <c>GET {filePath}/{jobId}/{fileName}</c> (an NDJSON
    /// file), for authorized clients, named "{kind}Status", "{kind}Cancel" and "{kind}File" and tagged Bulk Data.
    /// </summary>
    public static void MapJobStatusRoutes(this IEndpointRouteBuilder app, string kind, string statusPath, string filePath,
        Delegate status, Delegate cancel, Delegate file, string cancelSummary, string fileSummary)
    {
        app.MapGet(statusPath + "/{jobId}", status)
            .RequireClient().WithName($"{kind}Status").WithTags("Bulk Data")
            .WithSummary($"{kind} status: 202 with X-Progress while running, 200 with the manifest when done, 500 when failed.");
        app.MapDelete(statusPath + "/{jobId}", cancel)
            .RequireClient().WithName($"{kind}Cancel").WithTags("Bulk Data")
            .WithSummary(cancelSummary);
        app.MapGet(filePath + "/{jobId}/{fileName}", file)
            .RequireClient().WithName($"{kind}File").WithTags("Bulk Data")
            .WithSummary(fileSummary)
            .Produces(StatusCodes.Status200OK, contentType: ExportEndpoints.NdjsonContentType);
    }
}
