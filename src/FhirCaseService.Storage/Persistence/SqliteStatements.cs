using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The SQLite group writer's prepared statements, kept with its connection from group to group and bound by position.
/// Microsoft.Data.Sqlite binds every parameter by name, and SQLite looks a name up by walking the statement's list of
/// names: a multi-row INSERT with n parameters cost O(n²) per execution (about a third of the write lock's time in the
/// profile of issue 11). Here each text is prepared once, the position of each @pN is looked up once, and each
/// execution binds by position. The statements run on the connection's own handle, so inside its open transaction.
/// </summary>
internal sealed class SqliteStatements(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, Prepared> _statements = new(StringComparer.Ordinal);

    /// <summary>True when every value is of a type bound here (the others go through Microsoft.Data.Sqlite).</summary>
    public static bool CanBind(object?[] values)
    {
        foreach (var value in values)
            if (value is not (null or string or Utf8Text or long or int or short or byte or bool or double or float or decimal or byte[]))
                return false;
        return true;
    }

    /// <summary>Runs <paramref name="statement"/>, handing each row it returns to <paramref name="row"/>.</summary>
    public void Run(SqlStatement statement, Action<SqlRow>? row)
    {
        var prepared = PreparedFor(statement.Sql, statement.Values.Length);
        var stmt = prepared.Statement;
        try
        {
            for (var i = 0; i < statement.Values.Length; i++)
                Check(Bind(stmt, prepared.Positions[i], statement.Values[i]));
            int rc;
            while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
                row?.Invoke(prepared.Row);
            if (rc != raw.SQLITE_DONE)
                Check(rc);
        }
        finally
        {
            // Reset releases the statement's read/write state; the bindings are overwritten by the next execution.
            raw.sqlite3_reset(stmt);
        }
    }

    private Prepared PreparedFor(string sql, int parameters)
    {
        if (_statements.TryGetValue(sql, out var prepared))
            return prepared;
        Check(raw.sqlite3_prepare_v2(connection.Handle, sql, out var stmt, out var tail));
        if (!string.IsNullOrWhiteSpace(tail))
        {
            stmt.Dispose();
            throw new InvalidOperationException("A write-path statement must be a single SQL statement.");
        }
        var positions = new int[parameters];
        for (var i = 0; i < parameters; i++)
        {
            positions[i] = raw.sqlite3_bind_parameter_index(stmt, SqlBatchRunner.ParameterName(i));
            if (positions[i] == 0)
            {
                stmt.Dispose();
                throw new InvalidOperationException($"The statement has no parameter {SqlBatchRunner.ParameterName(i)}: {sql}");
            }
        }
        prepared = new Prepared(stmt, positions, new RawRow(stmt));
        _statements[sql] = prepared;
        return prepared;
    }

    private static int Bind(sqlite3_stmt stmt, int position, object? value) => value switch
    {
        null => raw.sqlite3_bind_null(stmt, position),
        string s => raw.sqlite3_bind_text(stmt, position, s),
        // By length, copied by SQLite (SQLITE_TRANSIENT); an empty span would be a null pointer, which SQLite binds as NULL.
        Utf8Text { Bytes.Length: 0 } => raw.sqlite3_bind_text(stmt, position, string.Empty),
        Utf8Text t => raw.sqlite3_bind_text(stmt, position, (ReadOnlySpan<byte>)t.Bytes),
        long l => raw.sqlite3_bind_int64(stmt, position, l),
        int i => raw.sqlite3_bind_int64(stmt, position, i),
        short s => raw.sqlite3_bind_int64(stmt, position, s),
        byte b => raw.sqlite3_bind_int64(stmt, position, b),
        bool b => raw.sqlite3_bind_int64(stmt, position, b ? 1 : 0),
        double d => raw.sqlite3_bind_double(stmt, position, d),
        float f => raw.sqlite3_bind_double(stmt, position, f),
        // As SqliteDialect.ToDbValue: a decimal is bound as REAL, never as text (text compares as text).
        decimal m => raw.sqlite3_bind_double(stmt, position, (double)m),
        byte[] bytes => raw.sqlite3_bind_blob(stmt, position, bytes),
        _ => throw new NotSupportedException($"Cannot bind a {value.GetType().Name}."),
    };

    private void Check(int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_ROW or raw.SQLITE_DONE))
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    public void Dispose()
    {
        foreach (var prepared in _statements.Values)
            prepared.Statement.Dispose();
        _statements.Clear();
    }

    private sealed record Prepared(sqlite3_stmt Statement, int[] Positions, RawRow Row);

    /// <summary>The current row of a stepping statement.</summary>
    private sealed class RawRow(sqlite3_stmt stmt) : SqlRow
    {
        public override bool IsDBNull(int ordinal) => raw.sqlite3_column_type(stmt, ordinal) == raw.SQLITE_NULL;

        public override string GetString(int ordinal) => raw.sqlite3_column_text(stmt, ordinal).utf8_to_string();

        public override long GetInt64(int ordinal) => raw.sqlite3_column_int64(stmt, ordinal);

        public override int GetInt32(int ordinal) => checked((int)raw.sqlite3_column_int64(stmt, ordinal));

        public override object GetValue(int ordinal) => raw.sqlite3_column_type(stmt, ordinal) switch
        {
            raw.SQLITE_INTEGER => raw.sqlite3_column_int64(stmt, ordinal),
            raw.SQLITE_FLOAT => raw.sqlite3_column_double(stmt, ordinal),
            raw.SQLITE_NULL => DBNull.Value,
            raw.SQLITE_BLOB => raw.sqlite3_column_blob(stmt, ordinal).ToArray(),
            _ => raw.sqlite3_column_text(stmt, ordinal).utf8_to_string(),
        };
    }
}

/// <summary>One row of a write-path statement's result, as <see cref="SqlBatchRunner.RunAsync"/> hands it over.</summary>
internal abstract class SqlRow
{
    public abstract bool IsDBNull(int ordinal);

    public abstract string GetString(int ordinal);

    public abstract long GetInt64(int ordinal);

    public abstract int GetInt32(int ordinal);

    public abstract object GetValue(int ordinal);

    /// <summary>A row of a <see cref="System.Data.Common.DbDataReader"/> (PostgreSQL, or a statement SQLite binds by name).</summary>
    public sealed class OfReader(System.Data.Common.DbDataReader reader) : SqlRow
    {
        public override bool IsDBNull(int ordinal) => reader.IsDBNull(ordinal);

        public override string GetString(int ordinal) => reader.GetString(ordinal);

        public override long GetInt64(int ordinal) => reader.GetInt64(ordinal);

        public override int GetInt32(int ordinal) => reader.GetInt32(ordinal);

        public override object GetValue(int ordinal) => reader.GetValue(ordinal);
    }
}
