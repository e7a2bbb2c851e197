using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage.Import;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Import;

/// <summary>
/// Runs import jobs in the background (<see cref="LeasedJobRunner{TJob, TStore}"/>, up to Import:MaxConcurrentJobs at
/// once): stores each job's input chunk after chunk (<see cref="ImportJobExecution"/>), audits each job's outcome, and
/// removes expired jobs with their spooled input.
/// </summary>
internal sealed class ImportRunner(
    IImportJobStore store,
    ImportSpool spool,
    ImportLineProcessor processor,
    ImportAudit audit,
    IOptions<ImportOptions> options,
    ILogger<ImportRunner> logger) : LeasedJobRunner<ImportJob, IImportJobStore>("Import", store, options.Value, logger)
{
    private readonly ImportOptions _options = options.Value;

    protected override Task RunJobAsync(ImportJob job, JobLease lease, CancellationToken cancellationToken) =>
        new ImportJobExecution(Store, processor, audit, _options, Owner, Logger).RunAsync(job, lease, cancellationToken);

    protected override Task<bool> RenewLeaseAsync(ImportJob job, string? checkpoint, CancellationToken cancellationToken) =>
        Store.RenewAsync(job.Id, Owner, _options.Lease, cancellationToken);

    /// <summary>Input that is not on this replica's disk will not be there at the next attempt either.</summary>
    protected override bool MayRetry(Exception failure) => failure is not ImportInputMissingException;

    protected override string FailureReason(ImportJob job, Exception failure) =>
        failure is ImportInputMissingException ? failure.Message : base.FailureReason(job, failure);

    protected override async Task OnFailedAsync(ImportJob job, string reason) =>
        await audit.RecordOutcomeAsync(await Store.GetAsync(job.Id) ?? job with { Status = ImportJobStatus.Failed, Error = reason });

    protected override Task RemoveLeftoversAsync(ImportJob job, CancellationToken cancellationToken)
    {
        ImportSpool.Delete(job.Request.InputPath);
        return Task.CompletedTask;
    }

    /// <summary>Removes jobs past their expiry with their spooled input, then spool files whose job was never recorded.</summary>
    public override async Task RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        await base.RemoveExpiredAsync(cancellationToken);
        foreach (var (jobId, path) in spool.FilesOlderThan(_options.ResultRetention))
            if (await Store.GetAsync(jobId, cancellationToken) is null)
                ImportSpool.Delete(path);
    }
}
