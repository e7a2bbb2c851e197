using System.Collections.Concurrent;
using FhirCaseService.Api.Audit;
using FhirCaseService.Storage.Import;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Import;

/// <summary>
/// Runs import jobs in the background: claims queued jobs (or jobs whose replica died) from the database under a lease,
/// up to Import:MaxConcurrentJobs at once, and stores each job's input chunk after chunk. Woken at once by a local
/// kick-off; otherwise it polls. A second loop removes expired jobs and their spooled input.
/// </summary>
internal sealed class ImportRunner(
    IImportJobStore store,
    ImportSpool spool,
    ImportLineProcessor processor,
    ImportAudit audit,
    IOptions<ImportOptions> options,
    ILogger<ImportRunner> logger) : BackgroundService
{
    private readonly ImportOptions _options = options.Value;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancellation, Task Run)> _running = new(StringComparer.Ordinal);

    /// <summary>This runner's name on the jobs it claims: unique per process start, so two hosts never share a lease.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

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

    /// <summary>Stops the job if this replica runs it and waits (briefly) until its current chunk is committed or rolled back.</summary>
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
            ImportJob? job;
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
                logger.LogWarning(e, "Import runner could not claim a job; it tries again at the next poll");
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

    private async Task RunAfterAsync(Task registered, ImportJob job, CancellationTokenSource cancellation)
    {
        await registered;
        try
        {
            await new ImportJobExecution(store, processor, audit, _options, Owner, logger).RunAsync(job, cancellation);
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
                logger.LogWarning(e, "Import cleanup failed; it tries again at the next interval");
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

    /// <summary>Removes jobs past their expiry with their spooled input, and spool files whose job was never recorded.</summary>
    private async Task RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var expired = await store.ExpiredAsync(DateTimeOffset.UtcNow, 100, cancellationToken);
            foreach (var job in expired)
            {
                ImportSpool.Delete(job.Request.InputPath);
                await store.DeleteAsync(job.Id, cancellationToken);
                logger.LogInformation("Import job {JobId} expired: state and input removed", job.Id);
            }
            if (expired.Count < 100)
                break;
        }
        foreach (var (jobId, path) in spool.FilesOlderThan(_options.ResultRetention))
            if (await store.GetAsync(jobId, cancellationToken) is null)
                ImportSpool.Delete(path);
    }
}

/// <summary>The lease was lost (the job was cancelled, or another replica took it over): stop at once.</summary>
internal sealed class ImportLeaseLostException(string jobId) : Exception($"Import job {jobId} is no longer this runner's.");

/// <summary>
/// One claimed job. The input is read from the committed byte offset; each chunk of Import:ChunkLines lines is judged
/// in parallel (parse, validate, prepare) while the previous chunk is being committed, and committed with the job's new
/// position in one database transaction. A keep-alive renews the lease between chunks.
/// </summary>
internal sealed class ImportJobExecution(IImportJobStore store, ImportLineProcessor processor, ImportAudit audit, ImportOptions options, string owner, ILogger logger)
{
    public async Task RunAsync(ImportJob job, CancellationTokenSource cancellation)
    {
        var cancellationToken = cancellation.Token;
        using var stopKeepAlive = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var keepAlive = KeepAliveAsync(job.Id, cancellation, stopKeepAlive.Token);
        try
        {
            if (job.CommittedLines > 0)
                logger.LogInformation("Import job {JobId} resumes after line {Line} (attempt {Attempt})", job.Id, job.CommittedLines, job.Attempts);
            var current = await ImportAsync(job, cancellationToken);
            await stopKeepAlive.CancelAsync();
            await keepAlive;
            if (await store.CompleteAsync(job.Id, owner, DateTimeOffset.UtcNow + options.ResultRetention, cancellationToken))
            {
                ImportSpool.Delete(job.Request.InputPath);
                var completed = await store.GetAsync(job.Id, cancellationToken) ?? current;
                await audit.RecordOutcomeAsync(completed);
                logger.LogInformation("Import job {JobId} completed: {Accepted} resources accepted, {Refused} lines refused",
                    job.Id, completed.Counts.Sum(c => c.Accepted), completed.ErrorLines);
            }
        }
        catch (Exception e) when (e is ImportLeaseLostException || e is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Import job {JobId} stopped here (cancelled, lease lost, or shutting down)", job.Id);
        }
        catch (Exception e)
        {
            await FailOrRetryAsync(job, e);
        }
        finally
        {
            await stopKeepAlive.CancelAsync();
            await keepAlive;
        }
    }

    private async Task<ImportJob> ImportAsync(ImportJob job, CancellationToken cancellationToken)
    {
        if (!File.Exists(job.Request.InputPath))
            throw new ImportInputMissingException(job.Id);
        var writable = job.Request.WritableTypes.ToHashSet(StringComparer.Ordinal);
        await using var input = new FileStream(job.Request.InputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var reader = new NdjsonLineReader(input, job.CommittedBytes, job.CommittedLines, processor.MaxLineBytes);
        var current = job;
        // The next chunk is judged while this one commits: the CPU work and the database work overlap.
        var next = JudgeNextChunkAsync(reader, writable, current.CommittedLines + 1, cancellationToken);
        try
        {
            while (await next is { } chunk)
            {
                next = JudgeNextChunkAsync(reader, writable, chunk.LastLine + 1, cancellationToken);
                current = await store.CommitChunkAsync(job.Id, owner, options.Lease, chunk, cancellationToken)
                          ?? throw new ImportLeaseLostException(job.Id);
            }
        }
        finally
        {
            // Never leave a judging task reading the input after the file is closed.
            try
            {
                await next;
            }
            catch (Exception)
            {
                // Its failure (or cancellation) is not this job's outcome when the loop already ended on another.
            }
        }
        return current;
    }

    /// <summary>Reads the next Import:ChunkLines lines and judges them in parallel; null at the end of the input.</summary>
    private async Task<ImportChunk?> JudgeNextChunkAsync(NdjsonLineReader reader, IReadOnlySet<string> writable, long firstLine, CancellationToken cancellationToken)
    {
        var lines = new List<NdjsonLine>(options.ChunkLines);
        while (lines.Count < options.ChunkLines && await reader.ReadAsync(cancellationToken) is { } line)
            lines.Add(line);
        if (lines.Count == 0)
            return null;
        var outcomes = new ImportLineOutcome[lines.Count];
        await Parallel.ForAsync(0, lines.Count, new ParallelOptions { MaxDegreeOfParallelism = options.ValidationParallelism, CancellationToken = cancellationToken },
            async (index, ct) => outcomes[index] = await processor.ProcessAsync(lines[index], writable, ct));
        return new ImportChunk(firstLine, lines[^1].Number, lines[^1].EndByte,
            [.. outcomes.Where(o => o.Write is not null).Select(o => o.Write!)],
            [.. outcomes.Where(o => o.Error is not null).Select(o => o.Error!)]);
    }

    private async Task KeepAliveAsync(string jobId, CancellationTokenSource job, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.Lease / 3, stop);
                if (!await store.RenewAsync(jobId, owner, options.Lease, stop))
                {
                    await job.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Retried at the next tick; if the database stays away the lease lapses and another replica resumes
                // the job after its last committed chunk.
                logger.LogWarning(e, "Import job {JobId}: lease renewal failed", jobId);
            }
        }
    }

    /// <summary>A transient fault (database restart) gets another attempt after the lease lapses; a persistent one fails the job.</summary>
    private async Task FailOrRetryAsync(ImportJob job, Exception e)
    {
        if (job.Attempts < options.MaxAttempts && e is not ImportInputMissingException)
        {
            logger.LogWarning(e, "Import job {JobId} attempt {Attempt} failed; it is resumed once its lease lapses", job.Id, job.Attempts);
            return;
        }
        logger.LogError(e, "Import job {JobId} failed after {Attempts} attempts", job.Id, job.Attempts);
        try
        {
            var reason = e is ImportInputMissingException ? e.Message : $"The import failed after {job.Attempts} attempts ({e.GetType().Name}).";
            if (await store.FailAsync(job.Id, owner, reason, DateTimeOffset.UtcNow + options.ResultRetention))
                await audit.RecordOutcomeAsync((await store.GetAsync(job.Id)) ?? job with { Status = ImportJobStatus.Failed, Error = reason });
        }
        catch (Exception failure)
        {
            logger.LogError(failure, "Import job {JobId} could not be marked failed", job.Id);
        }
    }
}

/// <summary>The job's spooled input is not on this replica's disk (a spool directory that replicas do not share).</summary>
internal sealed class ImportInputMissingException(string jobId)
    : Exception($"The input of import job {jobId} is not in this replica's Import:SpoolDirectory (replicas must share that directory).");
