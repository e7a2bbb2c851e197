using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// Embedded SQLite: one file, WAL journal (readers never block the writer), one writer at a time. The in-process
/// gate keeps this process's writers queued in order instead of spinning on SQLITE_BUSY; busy_timeout covers another
/// process holding the file.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _writeGate = new(1, 1);

    public SqliteDialect(string connectionString, TimeSpan busyTimeout)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString) { Pooling = true, Mode = SqliteOpenMode.ReadWriteCreate };
        _connectionString = builder.ToString();
        _busyTimeoutMs = (int)busyTimeout.TotalMilliseconds;
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (directory is not null)
            Directory.CreateDirectory(directory);
    }

    public override string IdentityColumn => "INTEGER PRIMARY KEY AUTOINCREMENT";
    public override string TextType => "TEXT";
    public override string DecimalType => "REAL";
    public override string BlobType => "BLOB";

    public override IEnumerable<string> AppendOnlyTriggers(string table) =>
    [
        $"CREATE TRIGGER tr_{table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        $"CREATE TRIGGER tr_{table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ];

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA synchronous = NORMAL;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override async Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        try
        {
            var connection = (SqliteConnection)await OpenAsync(cancellationToken);
            // deferred: false is BEGIN IMMEDIATE: the write lock is taken now, so no read-then-upgrade deadlock later.
            var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            return new WriteSession(connection, transaction, () => _writeGate.Release());
        }
        catch
        {
            _writeGate.Release();
            throw;
        }
    }

    public override async Task RunExclusiveMigrationAsync(Func<DbConnection, DbTransaction, CancellationToken, Task> migrate, CancellationToken cancellationToken)
    {
        await using (var connection = await OpenAsync(cancellationToken))
        {
            // WAL is a property of the file and cannot be switched inside a transaction.
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var session = await BeginWriteAsync(cancellationToken);
        await migrate(session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
    }

    public override object ToDbValue(object value) => value is decimal d ? (double)d : value;

    public override string Unindexed(string column) => "+" + column;

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; release them so the data directory can be moved or deleted.
        using (var connection = new SqliteConnection(_connectionString))
            SqliteConnection.ClearPool(connection);
        _writeGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
