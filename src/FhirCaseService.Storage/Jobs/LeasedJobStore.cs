using System.Data.Common;
using System.Globalization;
using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Jobs;

/// <summary>
/// The job table's lease machinery over the process's <see cref="StorageDatabase"/>, the same for every job kind: every
/// change of job state runs in the dialect's write session (SQLite: the one writer; PostgreSQL: a transaction, with row
/// locks where jobs are claimed), so replicas on one database agree on who runs what. A job kind names its table, the
/// columns it reads, the tables recorded with a job, and how a row becomes its job.
/// </summary>
internal abstract class LeasedJobStore<TJob> : ILeasedJobStore<TJob>
    where TJob : class, ILeasedJob
{
    private readonly TimeProvider _time;
    private readonly string _table;
    private readonly string _columns;
    private readonly string[] _recordTables;

    /// <param name="table">The job table: job_id, status, created_ms, updated_ms, owner, lease_until_ms, attempts, error_text, expires_ms among its columns.</param>
    /// <param name="columns">The columns <see cref="ReadJob"/> reads, in its order.</param>
    /// <param name="recordTables">Tables with the job's records (keyed by job_id), removed with it.</param>
    protected LeasedJobStore(StorageDatabase database, TimeProvider? time, string table, string columns, params string[] recordTables)
    {
        Database = database;
        _time = time ?? TimeProvider.System;
        _table = table;
        _columns = columns;
        _recordTables = recordTables;
    }

    protected StorageDatabase Database { get; }

    protected long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<TJob?> GetAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {_columns} FROM {_table} WHERE job_id = {sql.P(jobId)}");
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        return (await ReadJobsAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<TJob?> ClaimNextAsync(string owner, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        var now = NowMs;
        var pick = new SqlText(dialect);
        // PostgreSQL: replicas claim at once; SKIP LOCKED hands each a different row, and the lock (re-checked against
        // the WHERE after a concurrent commit) keeps a job from being claimed twice. SQLite: the write session is the lock.
        var lockRow = dialect is PostgresDialect ? " FOR UPDATE SKIP LOCKED" : "";
        pick.Append($"SELECT job_id FROM {_table} WHERE status = {pick.P(StatusText(LeasedJobStatus.Queued))} " +
                    $"OR (status = {pick.P(StatusText(LeasedJobStatus.Running))} AND lease_until_ms < {pick.P(now)}) " +
                    $"ORDER BY created_ms, job_id LIMIT 1{lockRow}");
        string? jobId;
        await using (var command = pick.CreateCommand(session.Connection, session.Transaction))
            jobId = await command.ExecuteScalarAsync(cancellationToken) as string;
        if (jobId is null)
            return null;
        var claim = new SqlText(dialect);
        claim.Append($"UPDATE {_table} SET status = {claim.P(StatusText(LeasedJobStatus.Running))}, owner = {claim.P(owner)}, " +
                     $"lease_until_ms = {claim.P(now + (long)lease.TotalMilliseconds)}, attempts = attempts + 1, updated_ms = {claim.P(now)} " +
                     $"WHERE job_id = {claim.P(jobId)} RETURNING {_columns}");
        TJob? claimed;
        await using (var command = claim.CreateCommand(session.Connection, session.Transaction))
            claimed = (await ReadJobsAsync(command, cancellationToken)).SingleOrDefault();
        await session.Transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    public Task<bool> FailAsync(string jobId, string owner, string error, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        UpdateOwnedAsync(jobId, owner, (sql, _) =>
            $"status = {sql.P(StatusText(LeasedJobStatus.Failed))}, error_text = {sql.P(error)}, " +
            $"expires_ms = {sql.P(expiresAt.ToUnixTimeMilliseconds())}, lease_until_ms = NULL",
            cancellationToken);

    public Task<bool> CancelAsync(string jobId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        UpdateAsync((sql, now) =>
            $"UPDATE {_table} SET status = {sql.P(StatusText(LeasedJobStatus.Cancelled))}, expires_ms = {sql.P(expiresAt.ToUnixTimeMilliseconds())}, " +
            $"lease_until_ms = NULL, updated_ms = {sql.P(now)} WHERE job_id = {sql.P(jobId)} AND status IN " +
            $"({sql.P(StatusText(LeasedJobStatus.Queued))}, {sql.P(StatusText(LeasedJobStatus.Running))}, {sql.P(StatusText(LeasedJobStatus.Completed))})",
            cancellationToken);

    public async Task<IReadOnlyList<TJob>> ExpiredAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append($"SELECT {_columns} FROM {_table} WHERE expires_ms <= {sql.P(now.ToUnixTimeMilliseconds())} " +
                   $"ORDER BY expires_ms, job_id LIMIT {Math.Max(limit, 0).ToString(CultureInfo.InvariantCulture)}");
        await using var connection = await dialect.OpenAsync(cancellationToken);
        await using var command = sql.CreateCommand(connection, null);
        return await ReadJobsAsync(command, cancellationToken);
    }

    public async Task DeleteAsync(string jobId, CancellationToken cancellationToken = default)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        foreach (var table in _recordTables.Append(_table))
        {
            var sql = new SqlText(dialect);
            sql.Append($"DELETE FROM {table} WHERE job_id = {sql.P(jobId)}");
            await ExecuteAsync(sql, session.Connection, session.Transaction, cancellationToken);
        }
        await session.Transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Sets <paramref name="assignments"/> (given the statement and the time now, in ms) and updated_ms on the job if it is this owner's running job; true when it
    /// changed the job, false when the job is no longer this owner's or was cancelled.
    /// </summary>
    protected Task<bool> UpdateOwnedAsync(string jobId, string owner, Func<SqlText, long, string> assignments, CancellationToken cancellationToken) =>
        UpdateAsync((sql, now) =>
            $"UPDATE {_table} SET {assignments(sql, now)}, updated_ms = {sql.P(now)} " +
            $"WHERE job_id = {sql.P(jobId)} AND owner = {sql.P(owner)} AND status = {sql.P(StatusText(LeasedJobStatus.Running))}",
            cancellationToken);

    /// <summary>Runs one conditional UPDATE in a write session; true when it changed the job.</summary>
    private async Task<bool> UpdateAsync(Func<SqlText, long, string> statement, CancellationToken cancellationToken)
    {
        var dialect = await Database.DialectAsync(cancellationToken);
        var sql = new SqlText(dialect);
        sql.Append(statement(sql, NowMs));
        await using var session = await dialect.BeginWriteAsync(cancellationToken);
        var changed = await ExecuteAsync(sql, session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
        return changed == 1;
    }

    protected static async Task<int> ExecuteAsync(SqlText sql, DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = sql.CreateCommand(connection, transaction);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected async Task<List<TJob>> ReadJobsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var jobs = new List<TJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            jobs.Add(ReadJob(reader));
        return jobs;
    }

    /// <summary>The job in the current row of a query over the columns given at construction.</summary>
    protected abstract TJob ReadJob(DbDataReader reader);

    /// <summary>Stored lowercase ("queued"), readable in SQL and stable if the enum's members are reordered.</summary>
    protected static string StatusText(LeasedJobStatus status) => status.ToString().ToLowerInvariant();
}
