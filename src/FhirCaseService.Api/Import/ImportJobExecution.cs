using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage.Import;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Import;

/// <summary>
/// One claimed job's work (its runner handles stopping, failure and retry). The input is read from the committed byte
/// offset; each chunk of Import:ChunkLines lines is judged in parallel (parse, validate, prepare) while the previous
/// chunk is being committed, and committed with the job's new position in one database transaction, which renews the
/// lease too; the lease's keep-alive renews it between chunks.
/// </summary>
internal sealed class ImportJobExecution(IImportJobStore store, ImportLineProcessor processor, ImportAudit audit, ImportOptions options, string owner, ILogger logger)
{
    public async Task RunAsync(ImportJob job, JobLease lease, CancellationToken cancellationToken)
    {
        lease.StartKeepAlive();
        if (job.CommittedLines > 0)
            logger.LogInformation("Import job {JobId} resumes after line {Line} (attempt {Attempt})", job.Id, job.CommittedLines, job.Attempts);
        var current = await ImportAsync(job, cancellationToken);
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
                          ?? throw new JobLeaseLostException("Import", job.Id);
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
}
