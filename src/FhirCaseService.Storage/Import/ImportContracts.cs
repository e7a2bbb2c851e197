using FhirCaseService.Storage.Jobs;

namespace FhirCaseService.Storage.Import;

/// <summary>Values of <see cref="LeasedJobStatus"/>, so the shared job machinery reads them as its own.</summary>
public enum ImportJobStatus
{
    Queued = LeasedJobStatus.Queued,
    Running = LeasedJobStatus.Running,
    Completed = LeasedJobStatus.Completed,
    Failed = LeasedJobStatus.Failed,
    Cancelled = LeasedJobStatus.Cancelled,
}

/// <summary>
/// An accepted <c>$import</c>: where its input is (<see cref="InputPath"/>, a spool file the API wrote and synced before
/// the job existed), how large it is, who sent it, and which types that client may write (<see cref="WritableTypes"/>:
/// a line of any other type is refused with an error line).
/// </summary>
public sealed record ImportRequest(
    string RequestUrl,
    string? ClientId,
    string InputPath,
    long InputBytes,
    long InputLines,
    IReadOnlyList<string> WritableTypes);

/// <summary>What a job stored of one resource type so far.</summary>
public sealed record ImportTypeCount(string Type, long Created, long Updated, long Unchanged)
{
    /// <summary>Lines of this type accepted (stored, or already stored with the same content).</summary>
    public long Accepted => Created + Updated + Unchanged;
}

/// <summary>
/// One import job as stored. <see cref="CommittedLines"/> input lines (the first <see cref="CommittedBytes"/> bytes of
/// the input) are done: their resources are stored and their refusals recorded, in the same database transactions that
/// advanced these numbers. <see cref="TransactionTime"/> is set on completion: the lastUpdated of the last change then.
/// </summary>
public sealed record ImportJob(
    string Id,
    ImportJobStatus Status,
    ImportRequest Request,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Owner,
    DateTimeOffset? LeaseUntil,
    int Attempts,
    long CommittedLines,
    long CommittedBytes,
    IReadOnlyList<ImportTypeCount> Counts,
    long ErrorLines,
    DateTimeOffset? TransactionTime,
    string? Error,
    DateTimeOffset? ExpiresAt) : ILeasedJob
{
    LeasedJobStatus ILeasedJob.LeasedStatus => (LeasedJobStatus)Status;

    string? ILeasedJob.ClientId => Request.ClientId;
}

/// <summary>A refused input line: its 1-based number and the OperationOutcome (JSON, one line) that says why.</summary>
public sealed record ImportLineError(long Line, string OperationOutcomeJson);

/// <summary>
/// The next piece of a job's input, validated and prepared: it starts at the job's committed position
/// (<see cref="FirstLine"/> must equal <see cref="ImportJob.CommittedLines"/> + 1) and ends after line
/// <see cref="LastLine"/>, at byte <see cref="EndByte"/> of the input. <see cref="Writes"/> are in input order; the same
/// resource may appear more than once (the later line wins). <see cref="LineHashes"/> are the hashes of the accepted
/// lines that named their resource's id (recorded, so that the same line in a later import is recognised unread);
/// <see cref="Unchanged"/> are lines recognised so (<see cref="IImportJobStore.FindUnchangedAsync"/>), not judged again.
/// </summary>
public sealed record ImportChunk(long FirstLine, long LastLine, long EndByte, IReadOnlyList<PreparedWrite> Writes, IReadOnlyList<ImportLineError> Errors,
    IReadOnlyList<ImportLineHash>? LineHashes = null, IReadOnlyList<ImportUnchangedLine>? Unchanged = null);

/// <summary>
/// The hash of an accepted input line that named <see cref="Type"/>/<see cref="Id"/>: an HMAC-SHA256 of the line's exact
/// bytes keyed by what decides a line's verdict (service build, validation settings, limits, profiles), so a hash
/// matches only a line that would be judged the same way.
/// </summary>
public sealed record ImportLineHash(string Type, string Id, string Hash);

/// <summary>A line recognised as the one whose resource version <see cref="VersionKey"/> is still current: nothing to write.</summary>
public sealed record ImportUnchangedLine(string Type, string Id, long VersionKey);

/// <summary>
/// A chunk's <see cref="ImportChunk.Unchanged"/> lines are no longer unchanged at commit (the resource was written
/// since they were recognised): nothing was written; judge those lines in full and commit again.
/// </summary>
public sealed class ImportChunkStaleException() : Exception("A resource recognised as unchanged was written before its chunk committed.");

/// <summary>
/// Import job state in the database, shared by replicas like the export jobs (<see cref="ILeasedJobStore{TJob}"/>), and
/// chunks committed together with the job's position so that a job whose runner died resumes after its last stored
/// chunk, with no line stored twice and none lost.
/// </summary>
public interface IImportJobStore : ILeasedJobStore<ImportJob>
{
    /// <summary>Records a queued job for input the caller has already stored durably; <paramref name="jobId"/> names it (and its spool file).</summary>
    Task<ImportJob> CreateAsync(string jobId, ImportRequest request, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease. False when the job is no longer this owner's or was cancelled: stop.</summary>
    Task<bool> RenewAsync(string jobId, string owner, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores the chunk's resources (update-as-create; unchanged content writes no version), its refused lines, the
    /// per-type counts and the job's new position, and renews the lease, all in one database transaction. Null (and
    /// nothing written) when the job is no longer this owner's, was cancelled, or is not at <see cref="ImportChunk.FirstLine"/>.
    /// </summary>
    /// <exception cref="InvalidStorageRequestException">a write the store refuses (the whole chunk is rolled back).</exception>
    /// <exception cref="ImportChunkStaleException">an <see cref="ImportChunk.Unchanged"/> line's version is no longer current (nothing written).</exception>
    Task<ImportJob?> CommitChunkAsync(string jobId, string owner, TimeSpan lease, ImportChunk chunk, CancellationToken cancellationToken = default);

    /// <summary>
    /// Of <paramref name="candidates"/>, the lines that an earlier import accepted byte for byte (same
    /// <see cref="ImportLineHash.Hash"/>) and whose resource version from then is still current: the version key of
    /// each, by type and id. A read outside any transaction: <see cref="CommitChunkAsync"/> checks the keys again.
    /// </summary>
    Task<IReadOnlyDictionary<(string Type, string Id), long>> FindUnchangedAsync(IReadOnlyList<ImportLineHash> candidates, CancellationToken cancellationToken = default);

    /// <summary>
    /// After a job that wrote <paramref name="writtenResources"/> versions: refreshes the planner statistics of the tables
    /// an import fills when that is at least a tenth of the stored versions (PostgreSQL's ANALYZE, the share at which
    /// autovacuum would analyze them, but now instead of at its next round: searches right after a bulk load are planned
    /// from the loaded rows, not from a sample taken part-way through the load or none). True when it ran. SQLite:
    /// nothing (false); its search plans are fixed by the SQL (INDEXED BY, unary +, CROSS JOIN order), not by statistics.
    /// </summary>
    Task<bool> RefreshStatisticsAsync(long writtenResources, CancellationToken cancellationToken = default);

    /// <summary>Marks the job Completed, stamping its transactionTime. False when not this owner's.</summary>
    Task<bool> CompleteAsync(string jobId, string owner, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>The job's refused lines in line order, read in batches (memory stays flat).</summary>
    IAsyncEnumerable<ImportLineError> ReadErrorsAsync(string jobId, CancellationToken cancellationToken = default);
}
