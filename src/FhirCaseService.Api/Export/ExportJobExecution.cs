using FhirCaseService.Api.Http;
using FhirCaseService.Api.Jobs;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Export;

/// <summary>
/// Writes one claimed job. Types are written one after another; each into files of at most Export:MaxResourcesPerFile
/// lines, and (for a _since export) the type's deletions into files of deletion Bundles beside them. A checkpoint (files committed, then the lease renewed with the checkpoint) follows every Export:CheckpointRows
/// rows, every file roll-over and every finished type, and precedes any write: so on resume everything past the
/// recorded lengths was written after the last checkpoint, is cut off, and is written again from the recorded key.
/// </summary>
internal sealed class ExportJobExecution(IExportJobStore store, IExportFiles files, ExportOptions options, string owner, ILogger logger)
{
    private IExportFileWriter? _errors;
    private ExportCheckpoint? _checkpoint;

    public async Task RunAsync(ExportJob job, JobLease lease, CancellationToken cancellationToken)
    {
        try
        {
            var checkpoint = ExportCheckpoint.Deserialize(job.ProgressJson);
            if (checkpoint is null)
            {
                checkpoint = ExportCheckpoint.Start(job.Request.Types);
                await lease.CheckpointAsync(checkpoint.Serialize(), cancellationToken);
            }
            else
            {
                logger.LogInformation("Export job {JobId} resumes from its checkpoint (attempt {Attempt})", job.Id, job.Attempts);
            }
            _checkpoint = checkpoint;
            lease.StartKeepAlive();
            if (checkpoint.Errors.FileLines > 0)
                _errors = await files.OpenAsync(job.Id, ExportCheckpoint.ErrorFileName, checkpoint.Errors.FileLength, cancellationToken);

            foreach (var type in checkpoint.Types.Where(t => !t.Done))
                await WriteTypeAsync(job, checkpoint, type, lease, cancellationToken);

            var errors = checkpoint.Errors.FileLines > 0
                ? new[] { new ExportFileEntry(nameof(OperationOutcome), ExportCheckpoint.ErrorFileName, checkpoint.Errors.FileLines) }
                : [];
            var result = new ExportResult([.. checkpoint.Types.SelectMany(t => t.Files)], errors)
            {
                Deleted = [.. checkpoint.Types.SelectMany(t => t.Deleted.Files)],
            };
            await lease.DisposeAsync();
            if (await store.CompleteAsync(job.Id, owner, result.Serialize(), DateTimeOffset.UtcNow + options.FileRetention, cancellationToken))
                logger.LogInformation("Export job {JobId} completed: {Resources} resources in {Files} files, {Deleted} deletions listed",
                    job.Id, result.Output.Sum(f => f.Count), result.Output.Count, result.Deleted.Sum(f => f.Count));
        }
        finally
        {
            if (_errors is not null)
                await _errors.DisposeAsync();
        }
    }

    private async Task WriteTypeAsync(ExportJob job, ExportCheckpoint checkpoint, TypeCheckpoint type, JobLease lease, CancellationToken cancellationToken)
    {
        await using var output = new ExportFileSequence(files, job.Id, type, type.Type,
            index => ExportCheckpoint.FileName(type.Type, index), options.MaxResourcesPerFile);
        await using var deleted = new ExportFileSequence(files, job.Id, type.Deleted, nameof(Bundle),
            index => ExportCheckpoint.DeletedFileName(type.Type, index), options.MaxResourcesPerFile);
        async Task CheckpointTypeAsync()
        {
            await output.CommitAsync(cancellationToken);
            await deleted.CommitAsync(cancellationToken);
            await CheckpointAsync(checkpoint, lease, cancellationToken);
        }

        var sinceCheckpoint = 0;
        try
        {
            await foreach (var row in store.ReadAsync(job, type.Type, type.AfterKey, cancellationToken))
            {
                bool full;
                if (row.IsDeleted)
                {
                    full = await deleted.WriteLineAsync(DeletionBundle(row), cancellationToken);
                }
                else if (row.Json is not null)
                {
                    full = await output.WriteLineAsync(row.Json, cancellationToken);
                    type.Written++;
                }
                else
                {
                    await WriteErrorAsync(job, $"{row.ResourceType}/{row.Id} version {row.VersionId} has no stored content and was left out.", cancellationToken);
                    type.AfterKey = row.Key;
                    continue;
                }
                type.AfterKey = row.Key;
                if (full)
                {
                    // The full file is closed and checkpointed before the next one is opened, so no file exists beyond the recorded ones.
                    await (row.IsDeleted ? deleted : output).CloseFileAsync(cancellationToken);
                    await CheckpointTypeAsync();
                    sinceCheckpoint = 0;
                }
                else if (++sinceCheckpoint >= options.CheckpointRows)
                {
                    await CheckpointTypeAsync();
                    sinceCheckpoint = 0;
                }
            }
        }
        catch (Exception e) when (e is SearchQueryException or InvalidStorageRequestException)
        {
            // The store cannot select this type as asked (a filter it cannot run): the other types still export,
            // and the manifest's error file says what is missing.
            await WriteErrorAsync(job, $"{type.Type} could not be exported: {e.Message}", cancellationToken);
        }

        await output.FinishAsync(cancellationToken);
        await deleted.FinishAsync(cancellationToken);
        type.Done = true;
        await CheckpointAsync(checkpoint, lease, cancellationToken);
    }

    /// <summary>
    /// One line of the manifest's deleted files (Bulk Data Access IG 2.0.0): a transaction Bundle with one DELETE entry
    /// for the resource, stamped with when it was deleted, so a registry can apply it as it stands.
    /// </summary>
    private static string DeletionBundle(ExportRow row) =>
        FhirSerialization.ToJson(new Bundle
        {
            Meta = new Meta { LastUpdated = row.LastUpdated },
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new Bundle.EntryComponent
                {
                    Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.DELETE, Url = $"{row.ResourceType}/{row.Id}" },
                },
            ],
        });

    private async Task CheckpointAsync(ExportCheckpoint checkpoint, JobLease lease, CancellationToken cancellationToken)
    {
        if (_errors is not null)
            checkpoint.Errors.FileLength = await _errors.CommitAsync(cancellationToken);
        await lease.CheckpointAsync(checkpoint.Serialize(), cancellationToken);
    }

    private async Task WriteErrorAsync(ExportJob job, string message, CancellationToken cancellationToken)
    {
        _errors ??= await files.OpenAsync(job.Id, ExportCheckpoint.ErrorFileName, 0, cancellationToken);
        var outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Exception, message);
        await _errors.WriteLineAsync(FhirSerialization.ToJson(outcome), cancellationToken);
        _checkpoint!.Errors.FileLines++;
    }
}
