using System.Data.Common;
using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Fills a database built at an older schema version (<see cref="IStoreBackend.CreateAtSchemaAsync"/>, the real
/// migrations up to that version) with the rows a current store wrote: the versions, the clock, and every index and
/// sort-key row by its columns (the columns each table has had since it was added), so an upgrade test starts from
/// the database an older service would have left, not from a current one taken apart.
/// </summary>
internal static class OlderSchema
{
    public static async Task CopyRowsAsync(SqlDialect from, OlderDatabase to)
    {
        var tables = new List<(string Table, string Columns)>
        {
            ("resource_version", "version_key, resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content" +
                                 (to.Version >= 3 ? ", content_hash" : "")),
        };
        // Since v8 SQLite's index tables are clustered by (version_key, param, ord).
        var ord = to.Version >= 8 && to.Options.Provider == StorageProvider.Sqlite ? "ord, " : "";
        tables.AddRange(SchemaMigrator.IndexTables.Select(t => (t.Table, $"version_key, resource_type, param, {ord}{SchemaMigrator.IndexColumnNames[t.Table]}")));
        if (to.Version >= 6)
            tables.AddRange(SchemaMigrator.SortTables.Select(t => (t.Table, $"version_key, resource_type, param, {SchemaMigrator.IndexColumnNames[t.Table]}")));
        var postgres = to.Options.Provider == StorageProvider.PostgreSql;

        await using var source = await from.OpenAsync(CancellationToken.None);
        await using var target = await to.Dialect.OpenAsync(CancellationToken.None);
        await using var transaction = await target.BeginTransactionAsync();
        foreach (var (table, columns) in tables)
        {
            var count = columns.Split(',').Length;
            var identity = postgres && table == "resource_version" ? " OVERRIDING SYSTEM VALUE" : "";
            var insert = $"INSERT INTO {table} ({columns}){identity} VALUES ({string.Join(", ", Enumerable.Range(0, count).Select(i => "@p" + i))})";
            foreach (var row in await ReadAsync(source, $"SELECT {columns} FROM {table}"))
                await ExecuteAsync(target, transaction, insert, row);
        }
        var clock = (await ReadAsync(source, "SELECT change_seq, last_updated_ms FROM fhir_clock WHERE id = 1")).Single();
        await ExecuteAsync(target, transaction, "UPDATE fhir_clock SET change_seq = @p0, last_updated_ms = @p1 WHERE id = 1", clock);
        if (postgres)
            await ExecuteAsync(target, transaction,
                "SELECT setval(pg_get_serial_sequence('resource_version', 'version_key'), (SELECT MAX(version_key) FROM resource_version))", []);
        await transaction.CommitAsync();
    }

    private static async Task<List<object[]>> ReadAsync(DbConnection connection, string select)
    {
        var rows = new List<object[]>();
        await using var command = connection.CreateCommand();
        command.CommandText = select;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, object[] values)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i;
            parameter.Value = values[i];
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync();
    }
}
