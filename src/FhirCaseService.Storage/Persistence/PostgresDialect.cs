using System.Data.Common;
using Npgsql;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// PostgreSQL for several replicas on one database: pooled connections from one NpgsqlDataSource; writers are
/// serialized by the lock on the clock row (taken first thing in each write transaction, see ResourceStore);
/// schema migration is serialized across replicas by a session advisory lock keyed to the schema name.
/// </summary>
internal sealed class PostgresDialect(string connectionString, StorageDurability durability) : SqlDialect
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(Tuned(connectionString, durability));

    /// <summary>
    /// Automatic preparation keeps the write path's recurring statements prepared on each pooled connection (unless
    /// the connection string chooses otherwise); durability Normal turns synchronous_commit off for this service's
    /// sessions (PostgreSQL's default, on, waits for the WAL flush before acknowledging a commit).
    /// </summary>
    private static string Tuned(string connectionString, StorageDurability durability)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0)
            builder.MaxAutoPrepare = 256;
        if (durability == StorageDurability.Normal)
            builder.Options = ((builder.Options ?? "") + " -c synchronous_commit=off").Trim();
        return builder.ConnectionString;
    }

    public override string IdentityColumn => "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    public override string TextType => "text COLLATE \"C\"";
    public override string DecimalType => "numeric";
    public override string BlobType => "bytea";

    public override IEnumerable<string> AppendOnlyTriggers(string table) =>
    [
        $"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$",
        $"CREATE TRIGGER tr_{table}_no_change BEFORE UPDATE OR DELETE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        $"CREATE TRIGGER tr_{table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ];

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    public override async Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            return new WriteSession(connection, transaction, null);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override bool KeepsWriterConnection => false;

    public override Task<WriteSession> BeginGroupWriteAsync(DbConnection? kept, CancellationToken cancellationToken) => BeginWriteAsync(cancellationToken);

    public override string InList(string column, string parameter) => $"{column} = ANY({parameter})";

    public override object ListValue<T>(IReadOnlyList<T> values) => values.ToArray();

    public override string CurrentVersionsFrom =>
        "unnest(@p0::text[], @p1::text[]) AS k(t, i) JOIN resource_version a ON a.resource_type = k.t AND a.resource_id = k.i AND a.superseded_seq IS NULL";

    public override object?[] PairValues(IReadOnlyList<(string Type, string Id)> pairs) =>
        [pairs.Select(p => p.Type).ToArray(), pairs.Select(p => p.Id).ToArray()];

    public override async Task RunExclusiveMigrationAsync(Func<DbConnection, DbTransaction, CancellationToken, Task> migrate, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var create = connection.CreateCommand())
        {
            // Two replicas starting at once: the second waits here until the first has migrated, then finds nothing to do.
            create.CommandText = "SELECT pg_advisory_lock(hashtext('fhircase-schema:' || current_schema()))";
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await migrate(connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            await using var unlock = connection.CreateCommand();
            unlock.CommandText = "SELECT pg_advisory_unlock(hashtext('fhircase-schema:' || current_schema()))";
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public override string PerRowFence => " OFFSET 0";

    public override bool BatchesSavepoints => true;

    public override bool InsertsRowArrays => true;

    /// <summary>
    /// Npgsql's client-side command timeout (30 s unless the connection string sets Command Timeout) surfaces as an
    /// NpgsqlException around a TimeoutException; a server-side statement_timeout as SQLSTATE 57014 (query_canceled),
    /// which a client cancellation also raises, so that one counts only when the caller did not cancel.
    /// </summary>
    public override bool IsTimeout(Exception exception) => exception switch
    {
        Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.QueryCanceled } => true,
        Npgsql.NpgsqlException { InnerException: TimeoutException } => true,
        _ => false,
    };
}
