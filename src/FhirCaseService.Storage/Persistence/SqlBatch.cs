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

    public Task ExecuteAsync(IReadOnlyList<SqlStatement> statements, CancellationToken cancellationToken) =>
        RunAsync(statements, null, cancellationToken);

    /// <summary>Runs the statements, handing every row of every result set to <paramref name="row"/>.</summary>
    public async Task RunAsync(IReadOnlyList<SqlStatement> statements, Action<SqlRow>? row, CancellationToken cancellationToken)
    {
        if (statements.Count == 0)
            return;
        if (prepared is null && Connection.CanCreateBatch)
        {
            Executions++;
            await using var batch = Connection.CreateBatch();
            batch.Transaction = Transaction;
            foreach (var statement in statements)
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
            if (row is null)
            {
                await batch.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await ReadAllAsync(reader, row, cancellationToken);
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
                await ReadAllAsync(reader, row, cancellationToken);
            }
            finally
            {
                await command.DisposeAsync();
            }
        }
    }

    private static async Task ReadAllAsync(DbDataReader reader, Action<SqlRow> row, CancellationToken cancellationToken)
    {
        var current = new SqlRow.OfReader(reader);
        do
        {
            while (await reader.ReadAsync(cancellationToken))
                row(current);
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
