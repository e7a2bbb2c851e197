using FhirCaseService.Storage.Export;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Export;

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
