using System.Data;
using System.Data.Common;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// One SQL statement of the write path: fixed text with positional parameters @p0..@pN (null values bound as NULL
/// text, so the text never changes with the data and the engine can keep it prepared).
/// </summary>
internal sealed record SqlStatement(string Sql, object?[] Values);

/// <summary>
/// Runs the write path's statements on the connection of a commit group. On SQLite (in-process, no round trips) each
/// statement text is prepared once per writer connection and reused, its parameters bound by position
/// (<see cref="SqliteStatements"/>); on PostgreSQL the statements of one call travel as one batch (one round trip) and
/// Npgsql's automatic preparation keeps the recurring texts prepared.
/// </summary>
internal sealed class SqlBatchRunner(DbConnection connection, DbTransaction transaction, SqlDialect dialect, SqliteStatements? prepared)
{
    public DbConnection Connection { get; } = connection;

    public DbTransaction Transaction { get; } = transaction;

    /// <summary>
    /// True when the statements are bound by position on SQLite's own handle (<see cref="SqliteStatements"/>), which
    /// takes <see cref="Utf8Text"/> as it is; elsewhere a <see cref="Utf8Text"/> value is decoded to a string first.
    /// </summary>
    public bool BindsUtf8 => prepared is not null;

    /// <summary>Round trips to the engine (a batch counts once; on SQLite each statement counts once).</summary>
    public int Executions { get; private set; }

    /// <summary>Statements that go out at the head of the next batch, whatever it is (see <see cref="Defer"/>).</summary>
    private Deferred? _deferred;

    /// <summary>True while deferred statements wait for the next batch.</summary>
    public bool HasDeferred => _deferred is not null;

    /// <summary>
    /// Sends <paramref name="statements"/> at the head of the next batch instead of in a round trip of their own
    /// (batches only: PostgreSQL). Their rows go to <paramref name="row"/>: they must end in ONE statement returning
    /// rows (the first result set with columns is theirs); <paramref name="done"/> runs once that batch has been read,
    /// before its caller sees the result, and may throw to fail the caller.
    /// </summary>
    public void Defer(IReadOnlyList<SqlStatement> statements, Action<SqlRow> row, Action done)
    {
        if (prepared is not null || !Connection.CanCreateBatch)
            throw new InvalidOperationException("Statements are deferred only where they travel in batches.");
        _deferred = new Deferred(statements, row, done);
    }

    /// <summary>Sends deferred statements now, alone, if no batch took them yet.</summary>
    public async Task FlushDeferredAsync(CancellationToken cancellationToken)
    {
        if (_deferred is not null)
            await RunAsync([], null, cancellationToken);
    }

    /// <summary>Forgets deferred statements that never went out (the work they led failed before any SQL).</summary>
    public bool DropDeferred()
    {
        var had = _deferred is not null;
        _deferred = null;
        return had;
    }

    private sealed record Deferred(IReadOnlyList<SqlStatement> Statements, Action<SqlRow> Row, Action Done);

    public Task ExecuteAsync(IReadOnlyList<SqlStatement> statements, CancellationToken cancellationToken) =>
        RunAsync(statements, null, cancellationToken);

    /// <summary>Runs the statements, handing every row of every result set to <paramref name="row"/>.</summary>
    public async Task RunAsync(IReadOnlyList<SqlStatement> statements, Action<SqlRow>? row, CancellationToken cancellationToken)
    {
        var deferred = _deferred;
        if (statements.Count == 0 && deferred is null)
            return;
        if (prepared is null && Connection.CanCreateBatch)
        {
            Executions++;
            _deferred = null;
            await using var batch = Connection.CreateBatch();
            batch.Transaction = Transaction;
            foreach (var statement in deferred is null ? statements : [.. deferred.Statements, .. statements])
            {
                var command = batch.CreateBatchCommand();
                command.CommandText = statement.Sql;
                for (var i = 0; i < statement.Values.Length; i++)
                {
                    var parameter = command.CreateParameter();
                    Bind(parameter, i, statement.Values[i]);
                    command.Parameters.Add(parameter);
                }
                batch.BatchCommands.Add(command);
            }
            if (row is null && deferred is null)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            // A batch that carries deferred statements (a call's savepoint) is not cancelled: once they were handed
            // over they must have run, or the caller's rollback to the savepoint would fail its whole commit group.
            var token = deferred is null ? cancellationToken : CancellationToken.None;
            await using (var reader = await batch.ExecuteReaderAsync(token))
                await ReadAllAsync(reader, row, deferred?.Row, token);
            deferred?.Done();
            return;
        }
        foreach (var statement in statements)
        {
            Executions++;
            if (prepared is not null && SqliteStatements.CanBind(statement.Values))
            {
                prepared.Run(statement, row);
                continue;
            }
            var command = Command(statement);
            try
            {
                if (row is null)
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                    continue;
                }
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await ReadAllAsync(reader, row, null, cancellationToken);
            }
            finally
            {
                await command.DisposeAsync();
            }
        }
    }

    /// <param name="head">where the rows of the first result set with columns go (deferred statements), if any.</param>
    private static async Task ReadAllAsync(DbDataReader reader, Action<SqlRow>? row, Action<SqlRow>? head, CancellationToken cancellationToken)
    {
        var current = new SqlRow.OfReader(reader);
        do
        {
            var target = head ?? row;
            while (await reader.ReadAsync(cancellationToken))
                target?.Invoke(current);
            if (head is not null && reader.FieldCount > 0)
                head = null;
        } while (await reader.NextResultAsync(cancellationToken));
    }

    private DbCommand Command(SqlStatement statement)
    {
        var command = Connection.CreateCommand();
        command.Transaction = Transaction;
        command.CommandText = statement.Sql;
        for (var i = 0; i < statement.Values.Length; i++)
        {
            var parameter = command.CreateParameter();
            Bind(parameter, i, statement.Values[i]);
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private void Bind(DbParameter parameter, int index, object? value)
    {
        parameter.ParameterName = ParameterName(index);
        if (value is null)
        {
            // Every nullable column the write path fills is text; a typed NULL keeps the statement's parameter types stable.
            parameter.DbType = DbType.String;
            parameter.Value = DBNull.Value;
            return;
        }
        if (value is Utf8Text utf8)
            value = utf8.ToString();
        parameter.Value = dialect.ToDbValue(value);
    }

    private static readonly string[] Names = Enumerable.Range(0, 2048).Select(i => "@p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public static string ParameterName(int index) =>
        index < Names.Length ? Names[index] : "@p" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
