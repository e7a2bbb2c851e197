using FhirCaseService.Storage.Jobs;

namespace FhirCaseService.Storage.Export;

/// <summary>Which population an export covers (Bulk Data Access IG 2.0.0 kick-off endpoints).</summary>
public enum ExportLevel
{
    /// <summary><c>[base]/$export</c>: every resource of the requested types.</summary>
    System,
    /// <summary><c>[base]/Patient/$export</c>: resources in any patient's compartment (or the POSTed patients').</summary>
    Patient,
    /// <summary><c>[base]/Group/[id]/$export</c>: resources in the compartments of the group's member patients.</summary>
    Group,
}

/// <summary>Values of <see cref="LeasedJobStatus"/>, so the shared job machinery reads them as its own.</summary>
public enum ExportJobStatus
{
    Queued = LeasedJobStatus.Queued,
    Running = LeasedJobStatus.Running,
    Completed = LeasedJobStatus.Completed,
    Failed = LeasedJobStatus.Failed,
    Cancelled = LeasedJobStatus.Cancelled,
}

/// <summary>
/// A checked kick-off request. <see cref="Types"/> is never empty (the API expands "all types" before creating the job);
/// <see cref="TypeFilters"/> holds the raw <c>_typeFilter</c> values ("Observation?code=..."), already checked to parse
/// with <see cref="ExportTypeFilter.Parse"/>; <see cref="PatientIds"/> the POSTed <c>patient</c> references' ids
/// (restricts Patient/Group level). <see cref="Since"/> keeps resources changed strictly after it, at millisecond
/// precision (pass the previous job's transactionTime).
/// </summary>
public sealed record ExportRequest(
    ExportLevel Level,
    string? GroupId,
    IReadOnlyList<string> Types,
    DateTimeOffset? Since,
    IReadOnlyList<string> TypeFilters,
    IReadOnlyList<string> PatientIds,
    string RequestUrl,
    string? ClientId,
    bool IncludeDeleted = false);

/// <summary>
/// One export job as stored. <see cref="TransactionTime"/> is the pinned snapshot: the job exports exactly what was
/// committed at or before <see cref="TransactionTime"/>.Sequence, so <c>_since=&lt;this job's transactionTime&gt;</c> on
/// the next export misses nothing and repeats nothing. <see cref="ProgressJson"/> and <see cref="ResultJson"/> are the
/// runner's own (opaque to the store).
/// </summary>
public sealed record ExportJob(
    string Id,
    ExportJobStatus Status,
    ExportRequest Request,
    ChangeMark TransactionTime,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? Owner,
    DateTimeOffset? LeaseUntil,
    int Attempts,
    string? ProgressJson,
    string? ResultJson,
    string? Error,
    DateTimeOffset? ExpiresAt) : ILeasedJob
{
    LeasedJobStatus ILeasedJob.LeasedStatus => (LeasedJobStatus)Status;

    string? ILeasedJob.ClientId => Request.ClientId;
}

/// <summary>One exported row: the stored JSON of the version visible at the job's snapshot (or a deletion).</summary>
public sealed record ExportRow(long Key, string ResourceType, string Id, int VersionId, DateTimeOffset LastUpdated, bool IsDeleted, string? Json);

/// <summary>
/// Export job state in the database (<see cref="ILeasedJobStore{TJob}"/>): every replica can answer kick-off and status;
/// a job whose lease ran out (its replica died) is claimed again and resumes from its progress.
/// </summary>
public interface IExportJobStore : ILeasedJobStore<ExportJob>
{
    /// <summary>
    /// Creates a queued job pinned to the current change (its transactionTime). For Group level the group's current
    /// member patients (at that snapshot, intersected with <see cref="ExportRequest.PatientIds"/> when given) are recorded
    /// with the job; for Patient level with PatientIds, those.
    /// </summary>
    /// <exception cref="ExportGroupNotFoundException">Group level and the group does not exist (or is deleted).</exception>
    Task<ExportJob> CreateAsync(ExportRequest request, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease and stores progress. False when the job is no longer this owner's or was cancelled: stop.</summary>
    Task<bool> RenewAsync(string jobId, string owner, TimeSpan lease, string? progressJson, CancellationToken cancellationToken = default);

    /// <summary>Marks the job Completed with its result (the manifest's parts) and when its files expire. False when not this owner's.</summary>
    Task<bool> CompleteAsync(string jobId, string owner, string resultJson, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Streams one type's rows for the job, ordered by <see cref="ExportRow.Key"/>, starting after <paramref name="afterKey"/>
    /// (0 for the start; resume with the last key written). Rows: versions visible at the job's snapshot, lastUpdated
    /// after <see cref="ExportRequest.Since"/>, restricted to the level's population (patient compartments / the job's
    /// members) and to the type's _typeFilter queries (ORed; none = no restriction). Reads in batches over keyset
    /// pagination: memory stays flat whatever the size. Deleted resources only when <see cref="ExportRequest.IncludeDeleted"/>
    /// and Since are set (incremental sync's "deleted" list), as rows with IsDeleted and no Json; population and
    /// _typeFilter are judged on the version the deletion replaced. At Patient and Group level, types outside the
    /// patient compartment (<see cref="Search.PatientCompartment"/>) have no rows. Json is the stored text as is (never
    /// re-serialized): one line of NDJSON.
    /// </summary>
    IAsyncEnumerable<ExportRow> ReadAsync(ExportJob job, string resourceType, long afterKey, CancellationToken cancellationToken = default);

    /// <summary>Export files kept in the database (Export:Output = Database): append a chunk / read a file back in order.</summary>
    Task WriteFileChunkAsync(string jobId, string fileName, int chunkIndex, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>The file's chunks in order; empty when no such file.</summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ReadFileAsync(string jobId, string fileName, CancellationToken cancellationToken = default);

    /// <summary>Drops chunks at or after <paramref name="fromChunkIndex"/> (resuming after a crash mid-write).</summary>
    Task TruncateFileAsync(string jobId, string fileName, int fromChunkIndex, CancellationToken cancellationToken = default);
}

/// <summary>A Group-level export named a group that does not exist (the API answers 404).</summary>
public sealed class ExportGroupNotFoundException(string groupId)
    : Exception($"Group/{groupId} is not known to this server.")
{
    public string GroupId { get; } = groupId;
}
