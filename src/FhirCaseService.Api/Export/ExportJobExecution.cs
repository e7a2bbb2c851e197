using FhirCaseService.Api.Http;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Export;

/// <summary>
/// Writes one claimed job. Types are written one after another; each into files of at most Export:MaxResourcesPerFile
/// lines. A checkpoint (files committed, then the lease renewed with the progress) follows every Export:CheckpointRows
/// rows, every file roll-over and every finished type, and precedes any write: so on resume everything past the
/// recorded lengths was written after the last checkpoint, is cut off, and is written again from the recorded key.
/// </summary>
internal sealed class ExportJobExecution(IExportJobStore store, IExportFiles files, ExportOptions options, string owner, ILogger logger)
{
    private IExportFileWriter? _errors;
    private ExportProgress? _progress;

    public async Task RunAsync(ExportJob job, CancellationTokenSource cancellation)
    {
        var cancellationToken = cancellation.Token;
        await using var lease = new JobLease(store, job.Id, owner, options.Lease, cancellation, logger);
        try
        {
            var progress = ExportProgress.Deserialize(job.ProgressJson);
            if (progress is null)
            {
                progress = ExportProgress.Start(job.Request.Types);
                await lease.CheckpointAsync(progress.Serialize(), cancellationToken);
            }
            else
            {
                logger.LogInformation("Export job {JobId} resumes from its checkpoint (attempt {Attempt})", job.Id, job.Attempts);
            }
            _progress = progress;
            lease.StartKeepAlive();
            if (progress.Errors.FileLines > 0)
                _errors = await files.OpenAsync(job.Id, ExportProgress.ErrorFileName, progress.Errors.FileLength, cancellationToken);

            foreach (var type in progress.Types.Where(t => !t.Done))
                await WriteTypeAsync(job, progress, type, lease, cancellationToken);

            var errors = progress.Errors.FileLines > 0
                ? new[] { new ExportFileEntry(nameof(OperationOutcome), ExportProgress.ErrorFileName, progress.Errors.FileLines) }
                : [];
            var result = new ExportResult([.. progress.Types.SelectMany(t => t.Files)], errors);
            await lease.DisposeAsync();
            if (await store.CompleteAsync(job.Id, owner, result.Serialize(), DateTimeOffset.UtcNow + options.FileRetention, cancellationToken))
                logger.LogInformation("Export job {JobId} completed: {Resources} resources in {Files} files",
                    job.Id, result.Output.Sum(f => f.Count), result.Output.Count);
        }
        catch (Exception e) when (e is ExportLeaseLostException || e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Export job {JobId} stopped here (cancelled, lease lost, or shutting down)", job.Id);
        }
        catch (Exception e)
        {
            await FailOrRetryAsync(job, e);
        }
        finally
        {
            if (_errors is not null)
                await _errors.DisposeAsync();
        }
    }

    /// <summary>A transient fault (database restart) gets another attempt after the lease lapses; a persistent one fails the job.</summary>
    private async Task FailOrRetryAsync(ExportJob job, Exception e)
    {
        if (job.Attempts < options.MaxAttempts)
        {
            logger.LogWarning(e, "Export job {JobId} attempt {Attempt} failed; it is resumed once its lease lapses", job.Id, job.Attempts);
            return;
        }
        logger.LogError(e, "Export job {JobId} failed after {Attempts} attempts", job.Id, job.Attempts);
        try
        {
            await store.FailAsync(job.Id, owner, $"The export failed after {job.Attempts} attempts ({e.GetType().Name}).",
                DateTimeOffset.UtcNow + options.FileRetention);
        }
        catch (Exception failure)
        {
            logger.LogError(failure, "Export job {JobId} could not be marked failed", job.Id);
        }
    }

    private async Task WriteTypeAsync(ExportJob job, ExportProgress progress, TypeProgress type, JobLease lease, CancellationToken cancellationToken)
    {
        var writer = await files.OpenAsync(job.Id, ExportProgress.FileName(type.Type, type.FileIndex), type.FileLength, cancellationToken);
        try
        {
            var sinceCheckpoint = 0;
            try
            {
                await foreach (var row in store.ReadAsync(job, type.Type, type.AfterKey, cancellationToken))
                {
                    if (row.Json is null)
                    {
                        if (!row.IsDeleted)
                            await WriteErrorAsync(job, $"{row.ResourceType}/{row.Id} version {row.VersionId} has no stored content and was left out.", cancellationToken);
                        type.AfterKey = row.Key;
                        continue;
                    }
                    await writer.WriteLineAsync(row.Json, cancellationToken);
                    type.AfterKey = row.Key;
                    type.FileLines++;
                    type.Written++;
                    if (type.FileLines >= options.MaxResourcesPerFile)
                    {
                        writer = await RollOverAsync(job, progress, type, writer, lease, cancellationToken);
                        sinceCheckpoint = 0;
                    }
                    else if (++sinceCheckpoint >= options.CheckpointRows)
                    {
                        type.FileLength = await writer.CommitAsync(cancellationToken);
                        await CheckpointAsync(progress, lease, cancellationToken);
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

            type.FileLength = await writer.CommitAsync(cancellationToken);
            await writer.DisposeAsync();
            var name = ExportProgress.FileName(type.Type, type.FileIndex);
            if (type.FileLines > 0)
                type.Files.Add(new ExportFileEntry(type.Type, name, type.FileLines));
            else
                await files.DeleteFileAsync(job.Id, name, cancellationToken);
            type.Done = true;
            await CheckpointAsync(progress, lease, cancellationToken);
        }
        finally
        {
            await writer.DisposeAsync();
        }
    }

    /// <summary>Closes a full file and checkpoints before the next one is opened, so no file exists beyond the recorded ones.</summary>
    private async Task<IExportFileWriter> RollOverAsync(ExportJob job, ExportProgress progress, TypeProgress type, IExportFileWriter writer,
        JobLease lease, CancellationToken cancellationToken)
    {
        await writer.CommitAsync(cancellationToken);
        await writer.DisposeAsync();
        type.Files.Add(new ExportFileEntry(type.Type, ExportProgress.FileName(type.Type, type.FileIndex), type.FileLines));
        type.FileIndex++;
        type.FileLength = 0;
        type.FileLines = 0;
        await CheckpointAsync(progress, lease, cancellationToken);
        return await files.OpenAsync(job.Id, ExportProgress.FileName(type.Type, type.FileIndex), 0, cancellationToken);
    }

    private async Task CheckpointAsync(ExportProgress progress, JobLease lease, CancellationToken cancellationToken)
    {
        if (_errors is not null)
            progress.Errors.FileLength = await _errors.CommitAsync(cancellationToken);
        await lease.CheckpointAsync(progress.Serialize(), cancellationToken);
    }

    private async Task WriteErrorAsync(ExportJob job, string message, CancellationToken cancellationToken)
    {
        _errors ??= await files.OpenAsync(job.Id, ExportProgress.ErrorFileName, 0, cancellationToken);
        var outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Exception, message);
        await _errors.WriteLineAsync(FhirSerialization.ToJson(outcome), cancellationToken);
        _progress!.Errors.FileLines++;
    }
}
