using System.Data.Common;
using System.Diagnostics;
using FhirCaseService.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FhirCaseService.ExportBench;

/// <summary>
/// Grows a database seeded with exactly 10,000 patients through the storage API to 20,000 ... 100,000 by copying its
/// rows in SQL with the ids renamed (patient p00xxxx becomes p0kxxxx in ids, references, the pseudonym and the index
/// rows), because the storage API writes about 1,000 resources per CPU second and 1.08 million more would take hours on
/// a shared machine. The copies are what the API would have written for those patients (same JSON, same index rows,
/// same change sequence); only their version keys are new. A fixture for the export's memory at 100,000 patients, not a
/// write path: it knows the schema (resource_version and the idx_* tables, SchemaMigrator v1).
/// </summary>
public static class PopulationCopier
{
    public const int BasePatients = 10_000;

    /// <summary>Index columns that carry patient ids or pseudonyms; the rest are copied as they are.</summary>
    private static readonly Dictionary<string, string[]> IndexTables = new()
    {
        ["idx_token"] = ["system", "code", "text_norm"],
        ["idx_string"] = ["value_norm", "value_exact"],
        ["idx_date"] = ["low_ms", "high_ms"],
        ["idx_reference"] = ["target_type", "target_id", "url"],
        ["idx_quantity"] = ["value", "system", "code"],
        ["idx_number"] = ["value"],
        ["idx_uri"] = ["uri"],
    };

    private static readonly HashSet<string> RenamedIndexColumns = ["code", "text_norm", "value_norm", "value_exact", "target_id", "url", "uri"];

    /// <summary>Copies the first 10,000 patients' rows once per missing block of 10,000 up to <paramref name="targetPatients"/>.</summary>
    public static async Task<SeedResult> CopyAsync(StorageOptions storage, int seededPatients, int targetPatients, int resourcesPerPatient)
    {
        if (seededPatients % BasePatients != 0 || targetPatients % BasePatients != 0 || targetPatients > 10 * BasePatients)
            throw new ArgumentException($"Copying grows a database of a multiple of {BasePatients:N0} patients to at most {10 * BasePatients:N0}.");
        var postgres = storage.Provider == StorageProvider.PostgreSql;
        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        await using DbConnection connection = postgres
            ? new NpgsqlConnection(storage.ConnectionString)
            : new SqliteConnection("Data Source=" + Path.Combine(storage.DataDirectory, "fhircase.db"));
        await connection.OpenAsync();
        // The storage API wrote the base patients first, so their versions are exactly the keys up to this one.
        var baseMaxKey = await ScalarAsync(connection, null, "SELECT max(version_key) FROM resource_version WHERE resource_id < 'p01'");
        var maxKey = await ScalarAsync(connection, null, "SELECT max(version_key) FROM resource_version");
        for (var block = seededPatients / BasePatients; block < targetPatients / BasePatients; block++)
        {
            // Keys of block k: the base keys shifted past everything written so far, so they never collide.
            var offset = maxKey;
            var from = "p00";
            var to = $"p0{block}";
            await using var transaction = await connection.BeginTransactionAsync();
            var overriding = postgres ? "OVERRIDING SYSTEM VALUE " : "";
            await ExecuteAsync(connection, transaction,
                "INSERT INTO resource_version (version_key, resource_type, resource_id, version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, content) " +
                $"{overriding}SELECT version_key + {offset}, resource_type, '{to}' || substr(resource_id, 4), version_id, change_seq, superseded_seq, last_updated_ms, is_deleted, " +
                $"replace(replace(content, '\"{from}', '\"{to}'), '/{from}', '/{to}') FROM resource_version WHERE version_key <= {baseMaxKey} AND resource_id LIKE '{from}%'");
            foreach (var (table, columns) in IndexTables)
            {
                var values = columns.Select(c => RenamedIndexColumns.Contains(c)
                    ? $"CASE WHEN {c} LIKE '{from}%' THEN '{to}' || substr({c}, 4) ELSE replace({c}, '/{from}', '/{to}') END"
                    : c);
                await ExecuteAsync(connection, transaction,
                    $"INSERT INTO {table} (version_key, resource_type, param, {string.Join(", ", columns)}) " +
                    $"SELECT version_key + {offset}, resource_type, param, {string.Join(", ", values)} FROM {table} WHERE version_key <= {baseMaxKey}");
            }
            await transaction.CommitAsync();
            maxKey = await ScalarAsync(connection, null, "SELECT max(version_key) FROM resource_version");
            Console.WriteLine($"    ... copied block {block}: {(block + 1) * BasePatients:N0} patients, {watch.Elapsed.TotalSeconds:F0} s so far");
        }
        if (postgres)
            await ScalarAsync(connection, null, "SELECT setval(pg_get_serial_sequence('resource_version', 'version_key'), (SELECT max(version_key) FROM resource_version))");
        await ExecuteAsync(connection, null, "ANALYZE");
        watch.Stop();
        var patients = targetPatients - seededPatients;
        return new SeedResult(patients, patients * resourcesPerPatient, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static async Task<long> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        await command.ExecuteNonQueryAsync();
    }
}
