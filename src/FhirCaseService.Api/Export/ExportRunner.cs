using System.Collections.Concurrent;
using FhirCaseService.Storage.Export;
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
