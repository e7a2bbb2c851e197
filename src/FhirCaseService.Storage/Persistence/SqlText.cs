using System.Data.Common;
using System.Text;

namespace FhirCaseService.Storage.Persistence;

/// <summary>SQL text with its positional parameters (@p0, @p1...), built up piece by piece; null values become literal NULL.</summary>
internal sealed class SqlText(SqlDialect dialect)
{
    private readonly List<object> _values = [];

    public StringBuilder Sql { get; } = new();

    /// <summary>Binds <paramref name="value"/> and returns its placeholder.</summary>
    public string P(object? value)
    {
        if (value is null)
            return "NULL";
        _values.Add(dialect.ToDbValue(value));
        return "@p" + (_values.Count - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The column in a form the engine will not use an index for (see <see cref="SqlDialect.Unindexed"/>).</summary>
    public string Unindexed(string column) => dialect.Unindexed(column);

    /// <summary>See <see cref="SqlDialect.IndexedBy"/>.</summary>
    public string IndexedBy(string index) => dialect.IndexedBy(index);

    /// <summary>See <see cref="SqlDialect.PerRowFence"/>.</summary>
    public string PerRowFence => dialect.PerRowFence;

    public SqlText Append(string sql)
    {
        Sql.Append(sql);
        return this;
    }

    public DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Sql.ToString();
        for (var i = 0; i < _values.Count; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameter.Value = _values[i];
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>"%" / "_" / "\" in a LIKE operand taken literally (used with ESCAPE '\').</summary>
    public static string EscapeLike(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");
}
