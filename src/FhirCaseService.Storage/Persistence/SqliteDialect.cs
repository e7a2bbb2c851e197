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

    private readonly string _synchronous;

    /// <summary>Pages of the group writer's cache (SQLite's default is 2 MiB): the write path touches pages of many indexes per commit.</summary>
    private const int WriterCacheKib = 65_536;

    /// <summary>
    /// WAL bytes at which a commit checkpoints: 32 MiB (SQLite's default is 1,000 pages, 4 MB at 4 KiB pages). Set in
    /// pages on each connection (<see cref="WalCheckpointPages"/>), from the file's page size.
    /// </summary>
    internal const int WalCheckpointBytes = 32 * 1024 * 1024;

    /// <summary>The page size of a file this dialect creates; an existing file keeps its own.</summary>
    private readonly int _newFilePageSize;

    /// <summary>The file's page size, once the migration has opened it (until then, SQLite's default).</summary>
    public int PageSize => _pageSize;

    private volatile int _pageSize = 4096;

    /// <summary>WAL pages at which a commit checkpoints: <see cref="WalCheckpointBytes"/> of the file's pages.</summary>
    internal int WalCheckpointPages => WalCheckpointBytes / _pageSize;

    public SqliteDialect(string connectionString, TimeSpan busyTimeout, StorageDurability durability, int newFilePageSize = StorageOptions.DefaultSqlitePageSize)
    {
        _newFilePageSize = newFilePageSize;
        // FULL syncs the WAL at every commit, so an acknowledged commit survives power loss; NORMAL syncs only at
        // checkpoints (a power loss may roll back the last commits; the file stays consistent).
        _synchronous = durability == StorageDurability.Full ? "FULL" : "NORMAL";
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
            // A checkpoint every 32 MiB of WAL (8,192 pages of 4 KiB) instead of SQLite's 1,000 pages: the write path touches
            // the same index pages again and again, so a rarer checkpoint copies each page once for many commits (the WAL
            // stays bounded).
            pragma.CommandText = $"PRAGMA busy_timeout = {_busyTimeoutMs}; PRAGMA synchronous = {_synchronous}; PRAGMA wal_autocheckpoint = {WalCheckpointPages};";
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

    public override bool KeepsWriterConnection => true;

    public override async Task<WriteSession> BeginGroupWriteAsync(DbConnection? kept, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken);
        SqliteConnection? opened = null;
        try
        {
            var connection = (SqliteConnection?)kept ?? (opened = (SqliteConnection)await OpenAsync(cancellationToken));
            if (opened is not null)
            {
                await using var cache = opened.CreateCommand();
                cache.CommandText = $"PRAGMA cache_size = -{WriterCacheKib};";
                await cache.ExecuteNonQueryAsync(cancellationToken);
            }
            var transaction = connection.BeginTransaction(IsolationLevel.Serializable, deferred: false);
            return new WriteSession(connection, transaction, () => _writeGate.Release(), ownsConnection: false);
        }
        catch
        {
            if (opened is not null)
                await opened.DisposeAsync();
            _writeGate.Release();
            throw;
        }
    }

    public override string InList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    public override object ListValue<T>(IReadOnlyList<T> values) => System.Text.Json.JsonSerializer.Serialize(values);

    // CROSS JOIN makes SQLite loop over the pairs and probe ux_resource_current for each.
    public override string CurrentVersionsFrom =>
        "json_each(@p0) k CROSS JOIN resource_version a ON a.resource_type = json_extract(k.value, '$[0]') " +
        "AND a.resource_id = json_extract(k.value, '$[1]') AND a.superseded_seq IS NULL";

    public override object?[] PairValues(IReadOnlyList<(string Type, string Id)> pairs) =>
        [System.Text.Json.JsonSerializer.Serialize(pairs.Select(p => new[] { p.Type, p.Id }))];

    public override async Task RunExclusiveMigrationAsync(Func<DbConnection, DbTransaction, CancellationToken, Task> migrate, CancellationToken cancellationToken)
    {
        await using (var connection = await OpenAsync(cancellationToken))
        {
            // The page size takes effect only on a file that holds nothing yet (SQLite ignores it on an existing one, which
            // keeps the size it was made with), so it goes first. WAL is a property of the file and cannot be switched
            // inside a transaction.
            await using var wal = connection.CreateCommand();
            wal.CommandText = $"PRAGMA page_size = {_newFilePageSize}; PRAGMA journal_mode = WAL;";
            await wal.ExecuteNonQueryAsync(cancellationToken);
            await using var size = connection.CreateCommand();
            size.CommandText = "PRAGMA page_size;";
            _pageSize = Convert.ToInt32(await size.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        }
        // Every connection opened from here on (OpenAsync sets the pragmas on each open, pooled or not) checkpoints by the file's page size.
        await using var session = await BeginWriteAsync(cancellationToken);
        await migrate(session.Connection, session.Transaction, cancellationToken);
        await session.Transaction.CommitAsync(cancellationToken);
    }

    public override object ToDbValue(object value) => value is decimal d ? (double)d : value;

    public override string Unindexed(string column) => "+" + column;

    public override string IndexedBy(string index) => " INDEXED BY " + index;

    public override bool ClustersIndexRows => true;

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; release them so the data directory can be moved or deleted.
        using (var connection = new SqliteConnection(_connectionString))
            SqliteConnection.ClearPool(connection);
        _writeGate.Dispose();
        return ValueTask.CompletedTask;
    }
}
