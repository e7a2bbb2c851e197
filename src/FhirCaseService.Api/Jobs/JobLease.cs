using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Jobs;

/// <summary>
/// One claimed job's lease: renewed at each checkpoint the job records, and by a keep-alive at least every third of the
/// lease (with the last checkpoint, for jobs that keep one) so a slow step never lets it lapse. A refused renewal
/// cancels the job.
/// </summary>
/// <param name="renew">Extends the lease, storing the checkpoint given (null: keep the stored one); false when the job is no longer this runner's.</param>
public sealed class JobLease(string kind, string jobId, TimeSpan duration, CancellationTokenSource job,
    Func<string?, CancellationToken, Task<bool>> renew, ILogger logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopKeepAlive = new();
    private string? _checkpoint;
    private Task _keepAlive = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Records the checkpoint with a renewal; throws <see cref="JobLeaseLostException"/> (and cancels the job) when refused.</summary>
    public async Task CheckpointAsync(string checkpoint, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _checkpoint = checkpoint;
            if (!await renew(checkpoint, cancellationToken))
            {
                await job.CancelAsync();
                throw new JobLeaseLostException(kind, jobId);
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
                    if (!await renew(_checkpoint, stop))
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
                // another replica resumes the job from what it last committed.
                logger.LogWarning(e, "{Kind} job {JobId}: lease renewal failed", kind, jobId);
            }
        }
    }

    /// <summary>Stops the keep-alive (the job is done with its lease); safe to call more than once.</summary>
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
