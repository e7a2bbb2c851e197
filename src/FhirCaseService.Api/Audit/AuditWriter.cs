using System.Threading.Channels;
using FhirCaseService.Storage.Audit;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Audit;

/// <summary>
/// Takes audit records off the request path: requests put them on a bounded queue and go on; one background loop
/// appends them in batches (gathered for at most the flush interval; each batch one commit, on SQLite that of the
/// resource writer's next group, see AuditStore). Nothing is dropped:
/// a full queue makes requests wait for room, a failed append is retried, stopping the service writes what is queued,
/// and a record that arrives after the loop has ended is written directly.
/// </summary>
internal sealed class AuditWriter(IAuditStore store, IOptions<AuditOptions> options, ILogger<AuditWriter> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>How long stopping waits for the queue after the host's own stop time has run out.</summary>
    private static readonly TimeSpan FlushGrace = TimeSpan.FromSeconds(2);

    private readonly AuditOptions _options = options.Value;
    private readonly Channel<AuditRecord> _queue = Channel.CreateBounded<AuditRecord>(new BoundedChannelOptions(options.Value.QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    /// <summary>Cancelled only when stopping has run out of time: the loop then gives up retrying a failing database.</summary>
    private readonly CancellationTokenSource _abandon = new();
    private Task _loop = Task.CompletedTask;

    public async ValueTask EnqueueAsync(AuditRecord record)
    {
        try
        {
            await _queue.Writer.WriteAsync(record);
        }
        catch (ChannelClosedException)
        {
            await store.AppendAsync([record]);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Writes everything queued; the web server has stopped taking requests by now (it stops first). The host's stop
    /// token may already have fired when a request in flight used up the shutdown time (Http:ShutdownTimeout), so the
    /// queue gets <see cref="FlushGrace"/> more: writing a few hundred events takes milliseconds, and losing them leaves
    /// accesses to patient data unrecorded. Only a database that keeps failing makes the loop give up.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken);
            return;
        }
        catch (OperationCanceledException)
        {
        }
        try
        {
            await _loop.WaitAsync(FlushGrace);
        }
        catch (TimeoutException)
        {
            await _abandon.CancelAsync();
            logger.LogCritical("The service stopped before the audit trail was written: {Count} audit events are lost", _queue.Reader.Count);
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<AuditRecord>(_options.BatchSize);
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            await GatherAsync(batch);
            await AppendAsync(batch);
            batch.Clear();
        }
    }

    /// <summary>Takes what is queued, waiting up to the flush interval for a full batch.</summary>
    private async Task GatherAsync(List<AuditRecord> batch)
    {
        using var window = new CancellationTokenSource(_options.FlushInterval);
        while (batch.Count < _options.BatchSize)
        {
            if (_queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
                continue;
            }
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(window.Token))
                    return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task AppendAsync(List<AuditRecord> batch)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await store.AppendAsync(batch, CancellationToken.None);
                return;
            }
            catch (Exception e)
            {
                // Counts only: an audit record names resources and clients, which stay out of the log.
                logger.LogError(e, "Appending {Count} audit events failed; retrying in {Delay}", batch.Count, delay);
                try
                {
                    await Task.Delay(delay, _abandon.Token);
                }
                catch (OperationCanceledException)
                {
                    logger.LogCritical("{Count} audit events could not be written before the service stopped", batch.Count);
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>After <see cref="StopAsync"/> the loop has ended; without it (a host that never stopped cleanly) it gets a last chance.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(MaxRetryDelay * 2);
        }
        catch (TimeoutException)
        {
            await _abandon.CancelAsync();
            await _loop;
        }
        _abandon.Dispose();
    }
}
