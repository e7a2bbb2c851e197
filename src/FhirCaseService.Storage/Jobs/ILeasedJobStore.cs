namespace FhirCaseService.Storage.Jobs;

/// <summary>
/// Job state in the database, shared by replicas: <see cref="ClaimNextAsync"/> hands each runnable job to exactly one
/// replica (row locks with SKIP LOCKED on PostgreSQL, the write lock on SQLite) under a lease its runner renews; a job
/// whose lease ran out (its replica died) is claimed again and resumes from what it committed.
/// </summary>
public interface ILeasedJobStore<TJob>
    where TJob : class, ILeasedJob
{
    Task<TJob?> GetAsync(string jobId, CancellationToken cancellationToken = default);

    /// <summary>Claims the oldest queued job, or a running one whose lease expired; null when none. Sets owner, lease, status Running, attempts+1.</summary>
    Task<TJob?> ClaimNextAsync(string owner, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Marks the job Failed (a fatal error for the whole job). False when not this owner's.</summary>
    Task<bool> FailAsync(string jobId, string owner, string error, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Marks a queued, running or completed job Cancelled. False when unknown or already cancelled.</summary>
    Task<bool> CancelAsync(string jobId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Jobs past their expiry (finished, failed or cancelled), for cleanup.</summary>
    Task<IReadOnlyList<TJob>> ExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default);

    /// <summary>Removes the job and everything recorded with it.</summary>
    Task DeleteAsync(string jobId, CancellationToken cancellationToken = default);
}
