using System.Diagnostics;
using System.Threading.Channels;
using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage.Import;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Import;

/// <summary>
/// One claimed job's work (its runner handles stopping, failure and retry). The input is read from the committed byte
/// offset; each chunk of Import:ChunkLines lines is judged in parallel (parse, validate, prepare) while earlier
/// chunks (up to Import:ChunksAhead) wait or are being committed, and committed with the job's new position in one database transaction, which renews the
/// lease too; the lease's keep-alive renews it between chunks. A line an earlier import stored byte for byte, under the
/// same judge, whose version is still current is recognised by its hash and not judged again (a re-run costs a hash per
/// line); if its resource is written before the chunk commits, the chunk is judged in full and committed again.
/// </summary>
internal sealed class ImportJobExecution(IImportJobStore store, ImportLineProcessor processor, ImportAudit audit, ImportOptions options, string owner, ILogger logger)
{
    public async Task RunAsync(ImportJob job, JobLease lease, CancellationToken cancellationToken)
    {
        lease.StartKeepAlive();
        if (job.CommittedLines > 0)
            logger.LogInformation("Import job {JobId} resumes after line {Line} (attempt {Attempt})", job.Id, job.CommittedLines, job.Attempts);
        var pipeline = new PipelineTimes();
        var memory = ProcessMemory.Now();
        var current = await ImportAsync(job, pipeline, cancellationToken);
        // Which side bounded this attempt: judging waiting to hand a chunk over means the commits are slower than judging;
        // the commits waiting for a chunk means judging is (the cores, on one replica).
        logger.LogInformation("Import job {JobId}: {Chunks} chunks; judging {Judging:F1} s, of which {JudgeWaited:F1} s waiting for the commits; " +
                              "committing {Committing:F1} s, of which {CommitWaited:F1} s waiting for judged chunks",
            job.Id, pipeline.Chunks, pipeline.Judging.TotalSeconds, pipeline.JudgeWaited.TotalSeconds, pipeline.Committing.TotalSeconds, pipeline.CommitWaited.TotalSeconds);
        // What the attempt cost the collector (the whole process over the attempt: other requests are in it too, but an
        // import dwarfs them): a preparation that outlives gen0 shows as gen1/gen2 collections and pause time.
        var gc = ProcessMemory.Now() - memory;
        logger.LogInformation("Import job {JobId}: allocated {Allocated:F0} MB ({PerLine:F1} KB per line); collections gen0 {Gen0}, gen1 {Gen1}, gen2 {Gen2}; " +
                              "GC pauses {Paused:F1} s",
            job.Id, gc.AllocatedBytes / 1e6, gc.AllocatedBytes / 1024.0 / Math.Max(1, current.CommittedLines - job.CommittedLines),
            gc.Gen0, gc.Gen1, gc.Gen2, gc.Paused.TotalSeconds);
        // Before the job shows completed: a client that searches as soon as it sees the manifest gets plans made from the loaded rows.
        await RefreshStatisticsAsync(current, cancellationToken);
        await lease.DisposeAsync();
        if (await store.CompleteAsync(job.Id, owner, DateTimeOffset.UtcNow + options.ResultRetention, cancellationToken))
        {
            ImportSpool.Delete(job.Request.InputPath);
            var completed = await store.GetAsync(job.Id, cancellationToken) ?? current;
            await audit.RecordOutcomeAsync(completed);
            logger.LogInformation("Import job {JobId} completed: {Accepted} resources accepted, {Refused} lines refused",
                job.Id, completed.Counts.Sum(c => c.Accepted), completed.ErrorLines);
        }
    }

    /// <summary>
    /// The planner statistics of the loaded tables, when the job wrote a tenth of the store or more
    /// (<see cref="IImportJobStore.RefreshStatisticsAsync"/>). Best effort: without it the database's own autovacuum
    /// refreshes them later, so a failure is logged and the job still completes.
    /// </summary>
    private async Task RefreshStatisticsAsync(ImportJob job, CancellationToken cancellationToken)
    {
        var written = job.Counts.Sum(c => c.Created + c.Updated);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            if (await store.RefreshStatisticsAsync(written, cancellationToken))
                logger.LogInformation("Import job {JobId}: planner statistics refreshed after {Written} versions written, in {Milliseconds:F0} ms",
                    job.Id, written, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogWarning(exception, "Import job {JobId}: planner statistics not refreshed (autovacuum will)", job.Id);
        }
    }

    /// <summary>
    /// Wall time of one attempt's two sides (this replica): the judging task's total and the part it spent waiting to hand
    /// a chunk over; the commit loop's total and the part it spent waiting for the next judged chunk.
    /// </summary>
    private sealed class PipelineTimes
    {
        public int Chunks;
        public TimeSpan Judging;
        public TimeSpan JudgeWaited;
        public TimeSpan Committing;
        public TimeSpan CommitWaited;
    }

    private async Task<ImportJob> ImportAsync(ImportJob job, PipelineTimes pipeline, CancellationToken cancellationToken)
    {
        if (!File.Exists(job.Request.InputPath))
            throw new ImportInputMissingException(job.Id);
        var writable = job.Request.WritableTypes.ToHashSet(StringComparer.Ordinal);
        await using var input = new FileStream(job.Request.InputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        using var reader = new NdjsonLineReader(input, job.CommittedBytes, job.CommittedLines, processor.MaxLineBytes);
        var current = job;
        // Judging runs ahead of the commits by up to Import:ChunksAhead chunks: the cores keep judging while one chunk
        // commits, and a slow commit does not leave them idle. The chunks still commit one at a time, in line order.
        var judged = Channel.CreateBounded<JudgedChunk>(new BoundedChannelOptions(options.ChunksAhead) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var judging = Task.Run(() => JudgeAllAsync(reader, writable, job.CommittedLines + 1, judged.Writer, pipeline, stop.Token), CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                var waiting = Stopwatch.GetTimestamp();
                if (!await judged.Reader.WaitToReadAsync(cancellationToken))
                    break;
                pipeline.CommitWaited += Stopwatch.GetElapsedTime(waiting);
                if (!judged.Reader.TryRead(out var chunk))
                    continue;
                pipeline.Chunks++;
                ImportJob? committed;
                try
                {
                    committed = await store.CommitChunkAsync(job.Id, owner, options.Lease, chunk.Chunk, cancellationToken);
                }
                catch (ImportChunkStaleException)
                {
                    committed = await store.CommitChunkAsync(job.Id, owner, options.Lease, await JudgeInFullAsync(chunk, writable, cancellationToken), cancellationToken);
                }
                current = committed ?? throw new JobLeaseLostException("Import", job.Id);
            }
            pipeline.Committing = Stopwatch.GetElapsedTime(started);
            // Every judged chunk is committed: the input was read to its end, or judging failed and that is the job's failure.
            await judging;
        }
        finally
        {
            // Never leave a judging task reading the input after the file is closed.
            await stop.CancelAsync();
            try
            {
                await judging;
            }
            catch (Exception)
            {
                // Its failure (or cancellation) is not this job's outcome when the loop already ended on another.
            }
        }
        return current;
    }

    /// <summary>
    /// Judges the input chunk after chunk into <paramref name="judged"/>, in line order, and completes it at the end or
    /// on a failure (which this task then holds: the committer awaits it after the chunks judged before it).
    /// </summary>
    private async Task JudgeAllAsync(NdjsonLineReader reader, IReadOnlySet<string> writable, long firstLine, ChannelWriter<JudgedChunk> judged,
        PipelineTimes pipeline, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            while (await JudgeNextChunkAsync(reader, writable, firstLine, cancellationToken) is { } chunk)
            {
                var waiting = Stopwatch.GetTimestamp();
                await judged.WriteAsync(chunk, cancellationToken);
                pipeline.JudgeWaited += Stopwatch.GetElapsedTime(waiting);
                firstLine = chunk.Chunk.LastLine + 1;
            }
        }
        finally
        {
            pipeline.Judging = Stopwatch.GetElapsedTime(started);
            judged.Complete();
        }
    }

    /// <summary>The process's allocation and collection counters at one moment (differences between two are an attempt's).</summary>
    private readonly record struct ProcessMemory(long AllocatedBytes, int Gen0, int Gen1, int Gen2, TimeSpan Paused)
    {
        public static ProcessMemory Now() =>
            new(GC.GetTotalAllocatedBytes(precise: false), GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

        public static ProcessMemory operator -(ProcessMemory after, ProcessMemory before) =>
            new(after.AllocatedBytes - before.AllocatedBytes, after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2, after.Paused - before.Paused);
    }

    /// <summary>
    /// A judged chunk with what it was judged from, to judge its recognised lines in full if they went stale:
    /// <see cref="Lines"/> keeps only the recognised lines (null elsewhere), so the text of a judged line is not held
    /// until its chunk commits (the chunk's preparations are all the commit needs of it).
    /// </summary>
    private sealed record JudgedChunk(ImportChunk Chunk, long FirstLine, NdjsonLine?[] Lines, ImportLineHash?[] Hashes, ImportLineOutcome[] Outcomes);

    /// <summary>
    /// Reads the next Import:ChunkLines lines, looks their hashes up (one query) and judges in parallel the lines not
    /// recognised as unchanged; null at the end of the input.
    /// </summary>
    private async Task<JudgedChunk?> JudgeNextChunkAsync(NdjsonLineReader reader, IReadOnlySet<string> writable, long firstLine, CancellationToken cancellationToken)
    {
        var lines = new List<NdjsonLine>(options.ChunkLines);
        while (lines.Count < options.ChunkLines && await reader.ReadAsync(cancellationToken) is { } line)
            lines.Add(line);
        if (lines.Count == 0)
            return null;
        var hashes = new ImportLineHash?[lines.Count];
        Parallel.For(0, lines.Count, new ParallelOptions { MaxDegreeOfParallelism = options.ValidationParallelism, CancellationToken = cancellationToken },
            index => hashes[index] = processor.Identify(lines[index]));
        var unchanged = await store.FindUnchangedAsync(RecognisableLines(hashes, writable), cancellationToken);
        var outcomes = new ImportLineOutcome[lines.Count];
        await Parallel.ForAsync(0, lines.Count, new ParallelOptions { MaxDegreeOfParallelism = options.ValidationParallelism, CancellationToken = cancellationToken },
            async (index, ct) => outcomes[index] = hashes[index] is { } hash && unchanged.TryGetValue((hash.Type, hash.Id), out var versionKey)
                ? new ImportLineOutcome(null, null, new ImportUnchangedLine(hash.Type, hash.Id, versionKey))
                : await processor.ProcessAsync(lines[index], writable, ct));
        return Judged(firstLine, lines, hashes, outcomes);
    }

    /// <summary>
    /// The lines that may be recognised: of a type the client may write, naming a resource no other line of the chunk
    /// names (a later line must see the earlier one's write, so such lines are judged and written in order).
    /// </summary>
    private static List<ImportLineHash> RecognisableLines(ImportLineHash?[] hashes, IReadOnlySet<string> writable)
    {
        var lines = new Dictionary<(string, string), int>();
        foreach (var hash in hashes)
            if (hash is not null)
                lines[(hash.Type, hash.Id)] = lines.GetValueOrDefault((hash.Type, hash.Id)) + 1;
        return [.. hashes.OfType<ImportLineHash>().Where(h => writable.Contains(h.Type) && lines[(h.Type, h.Id)] == 1)];
    }

    /// <summary>The chunk again with its recognised lines judged in full: their resources were written since they were recognised.</summary>
    private async Task<ImportChunk> JudgeInFullAsync(JudgedChunk judged, IReadOnlySet<string> writable, CancellationToken cancellationToken)
    {
        var outcomes = judged.Outcomes.ToArray();
        await Parallel.ForAsync(0, outcomes.Length, new ParallelOptions { MaxDegreeOfParallelism = options.ValidationParallelism, CancellationToken = cancellationToken },
            async (index, ct) =>
            {
                if (outcomes[index].Unchanged is not null)
                    outcomes[index] = await processor.ProcessAsync(judged.Lines[index]!, writable, ct);
            });
        return Judged(judged.FirstLine, judged.Chunk.LastLine, judged.Chunk.EndByte, judged.Lines, judged.Hashes, outcomes).Chunk;
    }

    private static JudgedChunk Judged(long firstLine, IReadOnlyList<NdjsonLine> lines, ImportLineHash?[] hashes, ImportLineOutcome[] outcomes) =>
        Judged(firstLine, lines[^1].Number, lines[^1].EndByte, lines, hashes, outcomes);

    private static JudgedChunk Judged(long firstLine, long lastLine, long endByte, IReadOnlyList<NdjsonLine?> lines, ImportLineHash?[] hashes, ImportLineOutcome[] outcomes)
    {
        var written = new List<ImportLineHash>();
        for (var i = 0; i < outcomes.Length; i++)
            if (outcomes[i].Write is { } write && hashes[i] is { } hash && hash.Type == write.Resource.ResourceType && hash.Id == write.Resource.Id)
                written.Add(hash);
        var chunk = new ImportChunk(firstLine, lastLine, endByte,
            [.. outcomes.Where(o => o.Write is not null).Select(o => o.Write!)],
            [.. outcomes.Where(o => o.Error is not null).Select(o => o.Error!)],
            written,
            [.. outcomes.Where(o => o.Unchanged is not null).Select(o => o.Unchanged!)]);
        var recognised = new NdjsonLine?[outcomes.Length];
        for (var i = 0; i < outcomes.Length; i++)
            if (outcomes[i].Unchanged is not null)
                recognised[i] = lines[i];
        return new JudgedChunk(chunk, firstLine, recognised, hashes, outcomes);
    }
}
