using System.Data.Common;
using System.Diagnostics;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Search;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// Group commit: <see cref="IResourceStore.TransactionAsync{T}"/> calls queue here; one writer at a time takes every
/// pending call, runs them one after the other in ONE database transaction, each inside its own SAVEPOINT (a call that
/// throws is rolled back to its savepoint and gets its exception; the others go on), commits once (one sync of the
/// log for the whole group) and only then answers each caller. Each call still gets its own change sequence and
/// lastUpdated, in the order the group ran them, and the group becomes visible at once, so sequence order is commit
/// order (docs/storage.md, "Group commit").
/// </summary>
internal sealed class GroupCommitter(SqlDialect dialect, ResourcePreparer preparer, SearchExecutor search) : IAsyncDisposable
{
    /// <summary>Calls per group at most: bounds how long one group holds the write lock.</summary>
    private const int MaxGroupSize = 64;

    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private Task? _writer;
    private bool _disposed;

    // SQLite: the writer keeps its connection, and with it the prepared statements, from group to group.
    private DbConnection? _kept;
    private SqliteStatements? _prepared;

    /// <summary>Round trips the write path made (statements on SQLite, batches on PostgreSQL, and savepoint statements sent alone), for tests.</summary>
    public long Executions => Interlocked.Read(ref _executions);

    private long _executions;

    /// <summary>Groups committed (or failed) so far, for tests.</summary>
    public long Groups => Interlocked.Read(ref _groups);

    private long _groups;

    public Task<T> RunAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        var pending = new Pending<T>(work, cancellationToken);
        Enqueue(pending);
        return pending.Task;
    }

    /// <summary>
    /// Work that is not a resource write but must be durable with the same commit (the audit trail on SQLite, whose file
    /// has one write lock anyway): it runs on the group's connection and transaction, inside its own savepoint when the
    /// group has others, takes no change sequence, and is answered only after the group's commit, like any call.
    /// </summary>
    public Task RunSideWriteAsync(Func<SqlBatchRunner, CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        var pending = new SideWrite(work, cancellationToken);
        Enqueue(pending);
        return pending.Task;
    }

    private void Enqueue(Pending pending)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _queue.Enqueue(pending);
            _writer ??= Task.Run(WriteGroupsAsync, CancellationToken.None);
        }
    }

    private async Task WriteGroupsAsync()
    {
        while (true)
        {
            var group = new List<Pending>();
            lock (_gate)
            {
                while (group.Count < MaxGroupSize && _queue.TryDequeue(out var next))
                    if (!next.CancelIfRequested())
                        group.Add(next);
                if (group.Count == 0 && _queue.Count == 0)
                {
                    _writer = null;
                    return;
                }
            }
            if (group.Count > 0)
                await CommitGroupAsync(group);
        }
    }

    /// <summary>Never throws: every failure is handed to the callers it concerns.</summary>
    private async Task CommitGroupAsync(List<Pending> group)
    {
        WriteSession session;
        try
        {
            session = await dialect.BeginGroupWriteAsync(_kept, CancellationToken.None);
        }
        catch (Exception e)
        {
            await DropKeptConnectionAsync();
            foreach (var pending in group)
                pending.Fail(e);
            return;
        }
        var locked = Stopwatch.GetTimestamp();
        if (dialect.KeepsWriterConnection && _kept is null)
        {
            _kept = session.Connection;
            _prepared = new SqliteStatements((Microsoft.Data.Sqlite.SqliteConnection)session.Connection);
        }
        var sql = new SqlBatchRunner(session.Connection, session.Transaction, dialect, _prepared);
        // Savepoints cost two statements per call; a group of one rolls back as a whole instead.
        var savepoints = group.Count > 1;
        try
        {
            await using (session)
            {
                try
                {
                    for (var i = 0; i < group.Count; i++)
                        await RunOneAsync(group[i], sql, session.Transaction, savepoints ? "g" + i : null);
                    var committing = Stopwatch.GetTimestamp();
                    await session.Transaction.CommitAsync(CancellationToken.None);
                    StorageMetrics.GroupCommitMs.Record(Stopwatch.GetElapsedTime(committing).TotalMilliseconds);
                }
                catch (Exception e)
                {
                    // The group as a whole failed (a group of one whose call threw, a broken connection, a failed
                    // commit): nothing of it is committed, and every call not failed already gets this exception.
                    try
                    {
                        await session.Transaction.RollbackAsync(CancellationToken.None);
                    }
                    catch (Exception)
                    {
                        await DropKeptConnectionAsync();
                    }
                    foreach (var pending in group)
                        pending.FailUnlessFailed(e);
                    if (session.Connection.State != System.Data.ConnectionState.Open)
                        await DropKeptConnectionAsync();
                }
            }
        }
        catch (Exception e)
        {
            // Releasing the session failed after the outcome was decided: the connection is not to be trusted again.
            await DropKeptConnectionAsync();
            foreach (var pending in group)
                pending.FailUnlessFailed(e);
        }
        finally
        {
            Interlocked.Add(ref _executions, sql.Executions);
        }
        Interlocked.Increment(ref _groups);
        var held = Stopwatch.GetElapsedTime(locked).TotalMilliseconds;
        StorageMetrics.GroupLockHeldMs.Record(held);
        StorageMetrics.GroupSizeCount.Record(group.Count);
        foreach (var pending in group)
            pending.Complete();
    }

    private async Task RunOneAsync(Pending pending, SqlBatchRunner sql, DbTransaction transaction, string? savepoint)
    {
        var start = Stopwatch.GetTimestamp();
        if (dialect.BatchesSavepoints && pending.TakesClock)
        {
            await RunDeferredAsync(pending, sql, transaction, savepoint);
            pending.LockHeldMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return;
        }
        if (savepoint is null)
        {
            await pending.RunAsync(sql, pending.TakesClock ? new WriteTransaction(sql, dialect, preparer, search, await AdvanceClockAsync(sql)) : null);
            pending.LockHeldMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            return;
        }
        // SQLite (and a side write anywhere): the savepoint in-process, released after the call; PostgreSQL's clock-taking
        // calls defer theirs (above, RunDeferredAsync).
        Interlocked.Increment(ref _executions);
        await transaction.SaveAsync(savepoint);
        try
        {
            await pending.RunAsync(sql, pending.TakesClock ? new WriteTransaction(sql, dialect, preparer, search, await AdvanceClockAsync(sql)) : null);
        }
        catch (Exception e)
        {
            // Rolling back to the savepoint also undoes the clock step: the sequence has no gap.
            Interlocked.Increment(ref _executions);
            await transaction.RollbackAsync(savepoint);
            pending.Fail(e);
        }
        Interlocked.Increment(ref _executions);
        await transaction.ReleaseAsync(savepoint);
        pending.LockHeldMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>
    /// Where a round trip costs (PostgreSQL): the call's SAVEPOINT (in a group of several) and its clock step are not
    /// sent alone but at the head of the call's first batch, which for a write is the lookup of the current versions
    /// (<see cref="SqlBatchRunner.Defer"/>): a write costs 2 round trips (savepoint, clock and lookup; supersede, versions
    /// and index rows) instead of 3. The clock still comes first in the transaction, before anything the call reads or
    /// writes; a call that runs no SQL steps it alone after its work. The savepoint is not released (the next call's
    /// nests in it; COMMIT keeps whatever no rollback undid). A call that fails before its first batch went out has
    /// neither savepoint nor clock step to undo.
    /// </summary>
    private async Task RunDeferredAsync(Pending pending, SqlBatchRunner sql, DbTransaction transaction, string? savepoint)
    {
        var write = new WriteTransaction(sql, dialect, preparer, search, null);
        var (statements, row, done) = ClockStep(savepoint);
        sql.Defer(statements, row, () => write.ClockStepped(done()));
        try
        {
            await pending.RunAsync(sql, write);
            await sql.FlushDeferredAsync(CancellationToken.None);
        }
        catch (Exception e) when (savepoint is not null)
        {
            if (!sql.DropDeferred())
            {
                // Rolling back to the savepoint also undoes the clock step: the sequence has no gap.
                Interlocked.Increment(ref _executions);
                await transaction.RollbackAsync(savepoint);
            }
            pending.Fail(e);
        }
        finally
        {
            sql.DropDeferred();
        }
    }

    /// <summary>
    /// A call's first statement. Updating the single clock row takes its lock (PostgreSQL) inside the write lock
    /// (SQLite), so calls get their sequence in the order they commit; lastUpdated never goes backwards even when
    /// replicas' clocks disagree (at least 1 ms after the previous call). The same row carries the count of changes to
    /// the declared sortable token parameters: a call that finds another count than this process started with is
    /// refused (<see cref="SortableTokensChangedException"/>) and rolled back, so no write stores sort rows for a set the
    /// database no longer has; another replica's start changes the count under the same row lock.
    /// </summary>
    private async Task<ChangeMark> AdvanceClockAsync(SqlBatchRunner sql)
    {
        var (statements, row, done) = ClockStep(null);
        await sql.RunAsync(statements, row, CancellationToken.None);
        return done();
    }

    /// <summary>
    /// The clock step's statements (after a SAVEPOINT if given), the handler of its row, and what reads the step's
    /// outcome once the row was handled: the call's mark, or <see cref="SortableTokensChangedException"/>.
    /// </summary>
    private (IReadOnlyList<SqlStatement> Statements, Action<SqlRow> Row, Func<ChangeMark> Done) ClockStep(string? savepoint)
    {
        ChangeMark? mark = null;
        long? sortableVersion = null;
        var expected = dialect.SortableVersion;
        var returning = expected is null ? "change_seq, last_updated_ms" : "change_seq, last_updated_ms, sortable_version";
        SqlStatement[] statements = [.. savepoint is null ? Array.Empty<SqlStatement>() : [new SqlStatement("SAVEPOINT " + savepoint, [])], new SqlStatement(
            "UPDATE fhir_clock SET change_seq = change_seq + 1, last_updated_ms = CASE WHEN @p0 > last_updated_ms THEN @p0 ELSE last_updated_ms + 1 END " +
            $"WHERE id = 1 RETURNING {returning}", [DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()])];
        return (statements, reader =>
        {
            mark = new ChangeMark(reader.GetInt64(0), FhirInstantRange.ToInstant(reader.GetInt64(1)));
            if (expected is not null)
                sortableVersion = reader.GetInt64(2);
        }, () =>
        {
            if (expected is not null && sortableVersion != expected)
                throw new SortableTokensChangedException();
            return mark ?? throw new InvalidOperationException("The fhir_clock row is missing: the schema was not created by this service.");
        });
    }

    private async Task DropKeptConnectionAsync()
    {
        _prepared?.Dispose();
        _prepared = null;
        if (_kept is not null)
            await _kept.DisposeAsync();
        _kept = null;
    }

    /// <summary>Lets the running group finish, then closes the writer's connection.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? writer;
        lock (_gate)
        {
            _disposed = true;
            writer = _writer;
        }
        if (writer is not null)
            await writer;
        await DropKeptConnectionAsync();
    }

    private abstract class Pending
    {
        private readonly long _queued = Stopwatch.GetTimestamp();
        private Exception? _failure;

        public double LockHeldMs { get; set; }

        protected abstract CancellationToken CancellationToken { get; }

        /// <summary>Drops a call whose caller gave up while it was queued (nothing of it ran).</summary>
        public bool CancelIfRequested()
        {
            if (!CancellationToken.IsCancellationRequested)
                return false;
            SetCanceled();
            return true;
        }

        /// <summary>False for a side write: it gets no change sequence and is not a resource transaction in the metrics.</summary>
        public virtual bool TakesClock => true;

        /// <param name="transaction">the resource transaction of a call that takes the clock; null for a side write.</param>
        public abstract Task RunAsync(SqlBatchRunner sql, WriteTransaction? transaction);

        public void Fail(Exception e) => _failure = e;

        public void FailUnlessFailed(Exception e) => _failure ??= e;

        /// <summary>Answers the caller, after the group's commit.</summary>
        public void Complete()
        {
            if (TakesClock)
            {
                StorageMetrics.TransactionLockHeldMs.Record(LockHeldMs);
                StorageMetrics.TransactionDurationMs.Record(Stopwatch.GetElapsedTime(_queued).TotalMilliseconds);
            }
            if (_failure is null)
                SetResult();
            else
                SetException(_failure);
        }

        protected abstract void SetResult();

        protected abstract void SetException(Exception e);

        protected abstract void SetCanceled();
    }

    private sealed class Pending<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) : Pending
    {
        // Continuations run on the thread pool, not on the writer between two groups.
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T _result = default!;

        public Task<T> Task => _completion.Task;

        protected override CancellationToken CancellationToken => cancellationToken;

        public override async Task RunAsync(SqlBatchRunner sql, WriteTransaction? transaction) => _result = await work(transaction!, cancellationToken);

        protected override void SetResult() => _completion.TrySetResult(_result);

        protected override void SetException(Exception e)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                _completion.TrySetCanceled(cancellationToken);
            else
                _completion.TrySetException(e);
        }

        protected override void SetCanceled() => _completion.TrySetCanceled(cancellationToken);
    }

    private sealed class SideWrite(Func<SqlBatchRunner, CancellationToken, Task> work, CancellationToken cancellationToken) : Pending
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _completion.Task;

        public override bool TakesClock => false;

        protected override CancellationToken CancellationToken => cancellationToken;

        public override Task RunAsync(SqlBatchRunner sql, WriteTransaction? transaction) => work(sql, cancellationToken);

        protected override void SetResult() => _completion.TrySetResult();

        protected override void SetException(Exception e)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
                _completion.TrySetCanceled(cancellationToken);
            else
                _completion.TrySetException(e);
        }

        protected override void SetCanceled() => _completion.TrySetCanceled(cancellationToken);
    }
}
