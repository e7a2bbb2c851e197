using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// WAL checkpoints outside the write lock. SQLite's automatic checkpoint runs inside the COMMIT of the connection whose
/// commit crossed 1,000 WAL pages: the copy of those pages into the database file and its two syncs then ran under the
/// write lock, in the commit of whichever request was unlucky (a 19-resource transaction writes a few hundred pages, so
/// every few commits). Here every connection runs with <c>wal_autocheckpoint = 0</c> and this task, woken after each
/// write session, copies the WAL into the database with PASSIVE checkpoints on a connection of its own, concurrently
/// with the writers (SQLite allows a checkpoint beside a writer; it copies the frames committed before it started).
/// <para>
/// Durability is untouched: a commit is durable by the WAL sync of its own COMMIT (synchronous = FULL); a checkpoint
/// only moves committed pages into the database file and syncs it before the WAL may be reused. What a checkpoint
/// beside busy writers cannot do is finish: the WAL is reset (written again from its start) only when every frame was
/// copied before the next write transaction begins. So when the WAL has grown past <see cref="RestartFrames"/>, one
/// more PASSIVE checkpoint runs while holding the writers' gate: it copies only what was committed since the previous
/// run, and the next writer starts the WAL over. The WAL thus stays bounded near <see cref="RestartFrames"/> pages.
/// </para>
/// </summary>
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    /// <summary>Least time between two checkpoints: each costs two syncs, so a busy writer does not get one per commit.</summary>
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private SqliteConnection? _connection;

    /// <param name="restartFrames">WAL pages from which a checkpoint completes under the writers' gate so the WAL starts over.</param>
    public SqliteCheckpointer(string connectionString, SemaphoreSlim writeGate, int restartFrames)
    {
        _connectionString = connectionString;
        _writeGate = writeGate;
        RestartFrames = restartFrames;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Pages in the WAL from which the next checkpoint completes under the writers' gate.</summary>
    public int RestartFrames { get; }

    /// <summary>Checkpoints run so far and those among them that held the writers' gate, for tests.</summary>
    public int Runs { get; private set; }

    public int GatedRuns { get; private set; }

    /// <summary>Checkpoints that failed (retried at the next signal), for tests; the last failure is kept.</summary>
    public Exception? LastFailure { get; private set; }

    /// <summary>A write session ended: wakes the checkpointer (never blocks; signals coalesce).</summary>
    public void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
                _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Another writer signalled between the check and the release: one wake-up is enough.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        try
        {
            while (true)
            {
                await _signal.WaitAsync(token);
                try
                {
                    _connection ??= await OpenAsync(token);
                    var log = Checkpoint(_connection);
                    Runs++;
                    if (log >= RestartFrames)
                    {
                        // Copies only what committed since the line above; with the gate held no writer adds to it, so the
                        // WAL is complete in the database and the next write transaction starts it over.
                        await _writeGate.WaitAsync(token);
                        try
                        {
                            Checkpoint(_connection);
                            GatedRuns++;
                        }
                        finally
                        {
                            _writeGate.Release();
                        }
                    }
                    LastFailure = null;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // SQLITE_BUSY from another process's checkpoint, a closed file: nothing is lost (the WAL keeps the
                    // pages); the next write session wakes this again.
                    LastFailure = e;
                    if (_connection is not null)
                        await _connection.DisposeAsync();
                    _connection = null;
                }
                await Task.Delay(Interval, token);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken token)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(token);
        return connection;
    }

    /// <summary>One PASSIVE checkpoint; returns the number of pages in the WAL.</summary>
    private static int Checkpoint(SqliteConnection connection)
    {
        var rc = raw.sqlite3_wal_checkpoint_v2(connection.Handle, null, raw.SQLITE_CHECKPOINT_PASSIVE, out var log, out _);
        if (rc is not raw.SQLITE_OK)
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        return log;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        if (_connection is not null)
            await _connection.DisposeAsync();
        _stop.Dispose();
        _signal.Dispose();
    }
}
