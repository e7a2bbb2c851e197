using System.Collections.Concurrent;
using FhirCaseService.Api.Http;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Export;

/// <summary>
/// Runs export jobs in the background: claims queued jobs (or jobs whose replica died) from the database under a
/// lease, up to Export:MaxConcurrentJobs at once, and streams each type's rows into NDJSON files with a checkpoint
/// every Export:CheckpointRows rows. Woken at once by a local kick-off; otherwise it polls. A second loop removes
/// expired jobs' files and rows.
/// </summary>
public sealed class ExportRunner(
    IExportJobStore store,
    IExportFiles files,
    IOptions<ExportOptions> options,
    ILogger<ExportRunner> logger) : BackgroundService
{
    private readonly ExportOptions _options = options.Value;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancellation, Task Run)> _running = new(StringComparer.Ordinal);

    /// <summary>This runner's name on the jobs it claims: unique per process start, so two hosts never share a lease.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    /// <summary>Look for work now (a job was just queued here, or a slot became free).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up claims every job there is.
        }
    }

    /// <summary>Stops the job if this replica runs it and waits (briefly) until it no longer writes.</summary>
    public async Task StopJobAsync(string jobId)
    {
        if (!_running.TryGetValue(jobId, out var running))
            return;
        await running.Cancellation.CancelAsync();
        await Task.WhenAny(running.Run, Task.Delay(TimeSpan.FromSeconds(5)));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cleanup = CleanupLoopAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested && _options.MaxConcurrentJobs > 0)
        {
            await ClaimWhileFreeAsync(stoppingToken);
            try
            {
                await _wake.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(_running.Values.Select(r => r.Run));
        await cleanup;
    }

    private async Task ClaimWhileFreeAsync(CancellationToken stoppingToken)
    {
        while (_running.Count < _options.MaxConcurrentJobs && !stoppingToken.IsCancellationRequested)
        {
            ExportJob? job;
            try
            {
                job = await store.ClaimNextAsync(Owner, _options.Lease, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Export runner could not claim a job; it tries again at the next poll");
                return;
            }
            if (job is null)
                return;

            var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var run = RunAfterAsync(started.Task, job, cancellation);
            _running[job.Id] = (cancellation, run);
            started.SetResult();
        }
    }

    private async Task RunAfterAsync(Task registered, ExportJob job, CancellationTokenSource cancellation)
    {
        await registered;
        try
        {
            await new ExportJobExecution(store, files, _options, Owner, logger).RunAsync(job, cancellation);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            cancellation.Dispose();
            Wake();
        }
    }

    private async Task CleanupLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RemoveExpiredAsync(stoppingToken);
                await Task.Delay(_options.CleanupInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Export cleanup failed; it tries again at the next interval");
                try
                {
                    await Task.Delay(_options.CleanupInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Removes the files and rows of jobs past their expiry (finished ones after Export:FileRetention, cancelled ones at once).</summary>
    public async Task RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var expired = await store.ExpiredAsync(DateTimeOffset.UtcNow, 100, cancellationToken);
            foreach (var job in expired)
            {
                await files.DeleteJobAsync(job.Id, ExportJobFiles.KnownNames(job), cancellationToken);
                await store.DeleteAsync(job.Id, cancellationToken);
                logger.LogInformation("Export job {JobId} expired: files and state removed", job.Id);
            }
            if (expired.Count < 100)
                return;
        }
    }
}

/// <summary>The file names a job may have written, from its progress and result (stores that cannot list files need them).</summary>
public static class ExportJobFiles
{
    public static IEnumerable<string> KnownNames(ExportJob job)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { ExportProgress.ErrorFileName };
        if (ExportProgress.Deserialize(job.ProgressJson) is { } progress)
            names.UnionWith(progress.KnownFileNames());
        if (job.ResultJson is not null)
        {
            var result = ExportResult.Deserialize(job.ResultJson);
            names.UnionWith(result.Output.Concat(result.Errors).Select(f => f.Name));
        }
        return names;
    }
}

/// <summary>The lease was lost (the job was cancelled, or another replica took it over): stop writing at once.</summary>
public sealed class ExportLeaseLostException(string jobId) : Exception($"Export job {jobId} is no longer this runner's.");

/// <summary>
/// One claimed job's lease: renewed with the progress at each checkpoint, and by a keep-alive at least every third of
/// the lease (with the last checkpoint's progress) so a slow read never lets it lapse. A refused renewal cancels the job.
/// </summary>
internal sealed class JobLease(IExportJobStore store, string jobId, string owner, TimeSpan duration, CancellationTokenSource job, ILogger logger)
    : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopKeepAlive = new();
    private string? _progress;
    private Task _keepAlive = Task.CompletedTask;

    public async Task CheckpointAsync(string progress, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _progress = progress;
            if (!await store.RenewAsync(jobId, owner, duration, progress, cancellationToken))
            {
                await job.CancelAsync();
                throw new ExportLeaseLostException(jobId);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void StartKeepAlive() => _keepAlive = KeepAliveAsync(_stopKeepAlive.Token);

    private async Task KeepAliveAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(duration / 3, stop);
                await _gate.WaitAsync(stop);
                try
                {
                    if (!await store.RenewAsync(jobId, owner, duration, _progress, stop))
                    {
                        await job.CancelAsync();
                        return;
                    }
                }
                finally
                {
                    _gate.Release();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A failed renewal is retried at the next tick; if the database stays away the lease lapses and
                // another replica resumes the job from its last checkpoint.
                logger.LogWarning(e, "Export job {JobId}: lease renewal failed", jobId);
            }
        }
    }

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await _stopKeepAlive.CancelAsync();
        await _keepAlive;
        _stopKeepAlive.Dispose();
        _gate.Dispose();
    }
}

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
