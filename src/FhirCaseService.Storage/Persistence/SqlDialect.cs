using System.Data.Common;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// What differs between SQLite and PostgreSQL: column types, how a writer gets exclusive access, how the schema
/// migration is serialized, and connection handling. The SQL of reads and writes is shared (both speak the same
/// subset: RETURNING, partial indexes, LIMIT/OFFSET, named @parameters).
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    /// <summary>The surrogate key column of resource_version.</summary>
    public abstract string IdentityColumn { get; }

    /// <summary>A text column; PostgreSQL uses the "C" collation so sorting and LIKE-prefix indexes behave as in SQLite.</summary>
    public abstract string TextType { get; }

    public abstract string DecimalType { get; }

    /// <summary>A binary column (export files kept in the database).</summary>
    public abstract string BlobType { get; }

    /// <summary>
    /// Statements (no ";\n" inside one) that make <paramref name="table"/> append-only: any UPDATE or DELETE fails in the
    /// database itself, whatever code path tries it.
    /// </summary>
    public abstract IEnumerable<string> AppendOnlyTriggers(string table);

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Opens the one write transaction allowed at a time. Exclusivity is what makes the change sequence commit in
    /// order (docs/storage.md): SQLite takes the file's write lock (BEGIN IMMEDIATE, plus an in-process gate);
    /// PostgreSQL takes the clock row's lock in <see cref="WriteSession"/> right after BEGIN.
    /// </summary>
    public abstract Task<WriteSession> BeginWriteAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Opens the write transaction of a commit group. <paramref name="kept"/> is the connection the group writer kept
    /// from its previous group (with its prepared statements) where <see cref="KeepsWriterConnection"/>; the session
    /// does not dispose a kept connection.
    /// </summary>
    public abstract Task<WriteSession> BeginGroupWriteAsync(DbConnection? kept, CancellationToken cancellationToken);

    /// <summary>True where reusing one writer connection pays (SQLite prepares statements per connection).</summary>
    public abstract bool KeepsWriterConnection { get; }

    /// <summary>
    /// A condition "<paramref name="column"/> is one of the values bound to <paramref name="parameter"/>" whose text
    /// does not depend on how many values there are (bind <see cref="ListValue{T}"/>).
    /// </summary>
    public abstract string InList(string column, string parameter);

    public abstract object ListValue<T>(IReadOnlyList<T> values);

    /// <summary>
    /// A FROM clause joining the (type, id) pairs bound to @p0 (and @p1) with their current version rows, alias "a",
    /// text independent of the number of pairs; the values come from <see cref="PairValues"/>.
    /// </summary>
    public abstract string CurrentVersionsFrom { get; }

    public abstract object?[] PairValues(IReadOnlyList<(string Type, string Id)> pairs);

    /// <summary>
    /// The database's <c>fhir_clock.sortable_version</c> when this process brought the token sort-key rows in line with
    /// its declared set at start (schema 10 on; null when the store was opened without a set, or on an older schema):
    /// a write that finds another value, or a token walk, knows another replica changed the set since
    /// (<see cref="SchemaMigrator"/>, <see cref="GroupCommitter"/>).
    /// </summary>
    internal long? SortableVersion { get; set; }

    /// <summary>Runs <paramref name="migrate"/> while holding the database-wide migration lock.</summary>
    public abstract Task RunExclusiveMigrationAsync(Func<DbConnection, DbTransaction, CancellationToken, Task> migrate, CancellationToken cancellationToken);

    /// <summary>Converts a value for binding (SQLite binds decimal as text, which would compare as text).</summary>
    public virtual object ToDbValue(object value) => value;

    /// <summary>
    /// A column reference the planner must not pick an index for, to make it drive a query from a better one.
    /// SQLite plans without statistics and needs the hint (its unary "+" idiom); PostgreSQL plans from statistics.
    /// </summary>
    public virtual string Unindexed(string column) => column;

    /// <summary>
    /// Text after a table alias in FROM that makes the planner use <paramref name="index"/>: an index-ordered page walk
    /// must not be planned as a scan plus a sort. SQLite plans without statistics and needs it (INDEXED BY);
    /// PostgreSQL plans from statistics and the LIMIT.
    /// </summary>
    public virtual string IndexedBy(string index) => "";

    /// <summary>
    /// Text at the end of a correlated EXISTS that keeps it a per-row check: PostgreSQL turns a plain EXISTS into a semi
    /// join, which it may plan as "collect every matching row of the inner table, then join" and so read all of a broad
    /// criterion's rows before a capped count can stop; an OFFSET keeps the subquery from being pulled up. SQLite
    /// already checks a correlated EXISTS per row (and does not accept a bare OFFSET).
    /// </summary>
    public virtual string PerRowFence => "";

    /// <summary>
    /// Whether the index tables are clustered by (version_key, param, ord) (schema v8, SQLite: WITHOUT ROWID tables, so
    /// a row lives in one B-tree ordered by its version instead of a rowid table plus a (version_key, param) index) and
    /// every index row therefore carries <c>ord</c>, its position among its version's rows of that table. PostgreSQL
    /// keeps heap tables, whose row position needs no B-tree of its own.
    /// </summary>
    public virtual bool ClustersIndexRows => false;

    /// <summary>
    /// Whether the write path sends a batch's versions and index rows as one statement of column arrays
    /// (<see cref="PostgresRowArrays"/>: one fixed text, one round trip, with the supersede UPDATE in the same batch)
    /// instead of multi-row INSERTs per table and chunk size. PostgreSQL: a round trip and each new statement text cost;
    /// SQLite runs in-process, where its prepared multi-row INSERTs bind values without building arrays.
    /// </summary>
    public virtual bool InsertsRowArrays => false;

    /// <summary>
    /// Whether a commit group's per-call SAVEPOINT is sent in the call's first batch and never released
    /// (<see cref="GroupCommitter"/>): where each statement is a round trip to a server (PostgreSQL), that saves two per
    /// call. SQLite runs savepoints in-process and releases each one, which keeps its savepoint journal to one call.
    /// </summary>
    public virtual bool BatchesSavepoints => false;

    /// <summary>Whether <paramref name="exception"/> is the engine giving up on a statement that ran past its time limit.</summary>
    public virtual bool IsTimeout(Exception exception) => false;

    public abstract ValueTask DisposeAsync();
}

/// <summary>An open write transaction holding the database's write exclusivity until disposed.</summary>
internal sealed class WriteSession(DbConnection connection, DbTransaction transaction, Action? release, bool ownsConnection = true) : IAsyncDisposable
{
    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Transaction.DisposeAsync();
            if (ownsConnection)
                await Connection.DisposeAsync();
        }
        finally
        {
            release?.Invoke();
        }
    }
}
