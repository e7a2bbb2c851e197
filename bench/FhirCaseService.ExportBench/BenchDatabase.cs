using System.Globalization;
using FhirCaseService.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FhirCaseService.ExportBench;

/// <summary>
/// A fresh database for one backend and a scratch directory (SQLite file, export files, service logs), both removed
/// afterwards unless kept (<c>--keep</c>: a fixed directory and schema that the next run finds and seeds further): the
/// storage options the seeder opens it with and the Storage__* settings the service process gets.
/// </summary>
public sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string? _adminConnection;
    private readonly string? _schema;
    private readonly bool _keep;

    private BenchDatabase(string name, StorageOptions storage, Dictionary<string, string> serviceSettings, string scratch, string? adminConnection, string? schema, bool keep)
    {
        _keep = keep;
        Name = name;
        Storage = storage;
        ServiceSettings = serviceSettings;
        Scratch = scratch;
        _adminConnection = adminConnection;
        _schema = schema;
    }

    public string Name { get; }

    public StorageOptions Storage { get; }

    public IReadOnlyDictionary<string, string> ServiceSettings { get; }

    public string Scratch { get; }

    /// <param name="keptName">names the kept directory, so kept databases of different benches stay apart.</param>
    public static BenchDatabase Sqlite(bool keep, string keptName = "sqlite")
    {
        var scratch = NewScratch(keep ? keptName : null);
        var data = Path.Combine(scratch, "data");
        return new BenchDatabase("SQLite", new StorageOptions { DataDirectory = data },
            new Dictionary<string, string> { ["Storage__Provider"] = "Sqlite", ["Storage__DataDirectory"] = data }, scratch, null, null, keep);
    }

    /// <summary>A new schema in the database <paramref name="adminConnection"/> names, selected through the search path.</summary>
    public static async Task<BenchDatabase> PostgresAsync(string adminConnection, bool keep, string keptName = "postgres")
    {
        var schema = "exportbench_" + (keep ? (keptName == "postgres" ? "kept" : "kept_" + keptName.Replace('-', '_')) : Guid.NewGuid().ToString("N"));
        await ExecuteAsync(adminConnection, $"CREATE SCHEMA IF NOT EXISTS {schema}");
        var connection = new NpgsqlConnectionStringBuilder(adminConnection) { SearchPath = schema }.ConnectionString;
        return new BenchDatabase("PostgreSQL", new StorageOptions { Provider = StorageProvider.PostgreSql, ConnectionString = connection },
            new Dictionary<string, string> { ["Storage__Provider"] = "PostgreSql", ["Storage__ConnectionString"] = connection }, NewScratch(keep ? keptName : null), adminConnection, schema, keep);
    }

    /// <summary>Bytes on disk: the SQLite files (WAL included) or the schema's tables and indexes.</summary>
    public async Task<long> SizeAsync()
    {
        if (_schema is null)
            return new DirectoryInfo(Path.Combine(Scratch, "data")).EnumerateFiles().Sum(file => file.Length);
        await using var connection = new NpgsqlConnection(_adminConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))), 0) FROM pg_tables WHERE schemaname = @schema", connection);
        command.Parameters.AddWithValue("schema", _schema);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (_keep)
        {
            Console.WriteLine($"  kept for the next run: {(_schema is null ? Path.Combine(Scratch, "data") : "schema " + _schema)}");
            return;
        }
        if (_schema is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(_adminConnection!, $"DROP SCHEMA {_schema} CASCADE");
        }
        else
        {
            SqliteConnection.ClearAllPools();
        }
        if (Directory.Exists(Scratch))
            Directory.Delete(Scratch, recursive: true);
    }

    private static string NewScratch(string? keptName)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "fhircase-export-bench-" + (keptName is null ? Guid.NewGuid().ToString("N") : "kept-" + keptName));
        Directory.CreateDirectory(scratch);
        return scratch;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
