using System.Collections.Concurrent;
using FhirCaseService.Storage.Jobs;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Jobs;

/// <summary>
/// Runs one kind of job in the background: claims queued jobs (or jobs whose replica died) from the database under a
/// lease, up to MaxConcurrentJobs at once, and runs each under its <see cref="JobLease"/>. Woken at once by a local
/// kick-off; otherwise it polls. A job that stops because it was cancelled, lost its lease or the host shuts down just
/// stops (another replica, or this one after a restart, resumes it from what it committed); a job that fails is
/// retried after its lease lapses, up to MaxAttempts claims, then marked failed. A second loop removes expired jobs.
/// </summary>
/// <typeparam name="TJob">The job kind's job as stored.</typeparam>
/// <typeparam name="TStore">The job kind's store (the shared lease operations and its own).</typeparam>
/// <param name="kind">The job kind as log lines and messages name it ("Export").</param>
public abstract class LeasedJobRunner<TJob, TStore>(string kind, TStore store, ILeasedJobOptions options, ILogger logger) : BackgroundService
    where TJob : class, ILeasedJob
    where TStore : ILeasedJobStore<TJob>
{
    private const int ExpiredPerRound = 100;

    private readonly string _kind = kind;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancellation, Task Run)> _running = new(StringComparer.Ordinal);

    protected TStore Store { get; } = store;

    protected ILeasedJobOptions Options { get; } = options;

    protected ILogger Logger { get; } = logger;

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

    /// <summary>
    /// Does the claimed job's work under <paramref name="lease"/> (start its keep-alive when ready; dispose it before
    /// completing the job). Throw <see cref="JobLeaseLostException"/> when the store says the job is no longer this runner's.
    /// </summary>
    protected abstract Task RunJobAsync(TJob job, JobLease lease, CancellationToken cancellationToken);

    /// <summary>Extends the job's lease, storing <paramref name="checkpoint"/> where the kind keeps one; false when no longer this runner's.</summary>
    protected abstract Task<bool> RenewLeaseAsync(TJob job, string? checkpoint, CancellationToken cancellationToken);

    /// <summary>Removes what an expired job left beside its rows (files, spooled input); its rows go next.</summary>
    protected abstract Task RemoveLeftoversAsync(TJob job, CancellationToken cancellationToken);

    /// <summary>Whether a failure may be retried by another attempt; false fails the job at once.</summary>
    protected virtual bool MayRetry(Exception failure) => true;

    /// <summary>The failed job's error text (the status answer shows it).</summary>
    protected virtual string FailureReason(TJob job, Exception failure) =>
        $"The {_kind.ToLowerInvariant()} failed after {job.Attempts} attempts ({failure.GetType().Name}).";

    /// <summary>Runs after the job was marked failed.</summary>
    protected virtual Task OnFailedAsync(TJob job, string reason) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cleanup = CleanupLoopAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested && Options.MaxConcurrentJobs > 0)
        {
            await ClaimWhileFreeAsync(stoppingToken);
            try
            {
                await _wake.WaitAsync(Options.PollInterval, stoppingToken);
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
        while (_running.Count < Options.MaxConcurrentJobs && !stoppingToken.IsCancellationRequested)
        {
            TJob? job;
            try
            {
                job = await Store.ClaimNextAsync(Owner, Options.Lease, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Logger.LogWarning(e, "{Kind} runner could not claim a job; it tries again at the next poll", _kind);
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

    private async Task RunAfterAsync(Task registered, TJob job, CancellationTokenSource cancellation)
    {
        await registered;
        try
        {
            // The lease's keep-alive ends before the job leaves the running set and its cancellation is disposed.
            await using var lease = new JobLease(_kind, job.Id, Options.Lease, cancellation,
                (checkpoint, ct) => RenewLeaseAsync(job, checkpoint, ct), Logger);
            await RunOrFailAsync(job, lease, cancellation.Token);
        }
        finally
        {
            _running.TryRemove(job.Id, out _);
            cancellation.Dispose();
            Wake();
        }
    }

    private async Task RunOrFailAsync(TJob job, JobLease lease, CancellationToken cancellationToken)
    {
        try
        {
            await RunJobAsync(job, lease, cancellationToken);
        }
        catch (Exception e) when (e is JobLeaseLostException || e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            Logger.LogInformation("{Kind} job {JobId} stopped here (cancelled, lease lost, or shutting down)", _kind, job.Id);
        }
        catch (Exception e)
        {
            await FailOrRetryAsync(job, e);
        }
    }

    /// <summary>A transient fault (database restart) gets another attempt after the lease lapses; a persistent one fails the job.</summary>
    private async Task FailOrRetryAsync(TJob job, Exception e)
    {
        if (job.Attempts < Options.MaxAttempts && MayRetry(e))
        {
            Logger.LogWarning(e, "{Kind} job {JobId} attempt {Attempt} failed; it is resumed once its lease lapses", _kind, job.Id, job.Attempts);
            return;
        }
        Logger.LogError(e, "{Kind} job {JobId} failed after {Attempts} attempts", _kind, job.Id, job.Attempts);
        try
        {
            var reason = FailureReason(job, e);
            if (await Store.FailAsync(job.Id, Owner, reason, DateTimeOffset.UtcNow + Options.Retention))
                await OnFailedAsync(job, reason);
        }
        catch (Exception failure)
        {
            Logger.LogError(failure, "{Kind} job {JobId} could not be marked failed", _kind, job.Id);
        }
    }

    private async Task CleanupLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RemoveExpiredAsync(stoppingToken);
                await Task.Delay(Options.CleanupInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Logger.LogWarning(e, "{Kind} cleanup failed; it tries again at the next interval", _kind);
                try
                {
                    await Task.Delay(Options.CleanupInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Removes the jobs past their expiry (finished ones after their retention, cancelled ones once their lease lapsed) with what they left.</summary>
    public virtual async Task RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var expired = await Store.ExpiredAsync(DateTimeOffset.UtcNow, ExpiredPerRound, cancellationToken);
            foreach (var job in expired)
            {
                await RemoveLeftoversAsync(job, cancellationToken);
                await Store.DeleteAsync(job.Id, cancellationToken);
                Logger.LogInformation("{Kind} job {JobId} expired: its state and what it left are removed", _kind, job.Id);
            }
            if (expired.Count < ExpiredPerRound)
                return;
        }
    }
}
