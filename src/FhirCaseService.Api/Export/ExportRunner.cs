using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage.Export;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Export;

/// <summary>
/// Runs export jobs in the background (<see cref="LeasedJobRunner{TJob, TStore}"/>, up to Export:MaxConcurrentJobs at
/// once): streams each type's rows into NDJSON files with a checkpoint every Export:CheckpointRows rows
/// (<see cref="ExportJobExecution"/>), and removes expired jobs' files with their rows.
/// </summary>
public sealed class ExportRunner(
    IExportJobStore store,
    IExportFiles files,
    IOptions<ExportOptions> options,
    ILogger<ExportRunner> logger) : LeasedJobRunner<ExportJob, IExportJobStore>("Export", store, options.Value, logger)
{
    private readonly ExportOptions _options = options.Value;

    protected override Task RunJobAsync(ExportJob job, JobLease lease, CancellationToken cancellationToken) =>
        new ExportJobExecution(Store, files, _options, Owner, Logger).RunAsync(job, lease, cancellationToken);

    protected override Task<bool> RenewLeaseAsync(ExportJob job, string? checkpoint, CancellationToken cancellationToken) =>
        Store.RenewAsync(job.Id, Owner, _options.Lease, checkpoint, cancellationToken);

    protected override Task RemoveLeftoversAsync(ExportJob job, CancellationToken cancellationToken) =>
        files.DeleteJobAsync(job.Id, ExportJobFiles.KnownNames(job), cancellationToken);
}
