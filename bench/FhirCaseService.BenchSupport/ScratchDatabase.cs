using Npgsql;

namespace FhirCaseService.BenchSupport;

/// <summary>A fresh SQLite directory for one bench run, removed afterwards.</summary>
public sealed class ScratchDirectory : IDisposable
{
    /// <param name="purpose">names the directory (e.g. "fhircase-api-bench"), so a leftover tells whose it is.</param>
    public ScratchDirectory(string purpose) => Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), purpose + "-" + Guid.NewGuid().ToString("N"));

    public string Path { get; }

    public void Dispose()
    {
        // A stopped service's connection pool may still hold the file for a moment.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

/// <summary>
/// A fresh schema of the bench PostgreSQL (FHIRCASE_TEST_POSTGRES, as tools/ci/start-postgres.sh sets it; else that
/// script's defaults), reached through the search path; dropped afterwards.
/// </summary>
public sealed class ScratchSchema : IAsyncDisposable
{
    public static string AdminConnectionString { get; } = Environment.GetEnvironmentVariable("FHIRCASE_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Port=5432;Username=fhircase;Password=fhircase;Database=fhircase";

    private ScratchSchema(string name) => Name = name;

    public string Name { get; }

    public string ConnectionString => new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = Name }.ConnectionString;

    /// <param name="prefix">e.g. "bench_": a leftover schema tells whose it is.</param>
    public static async Task<ScratchSchema> CreateAsync(string prefix)
    {
        var schema = new ScratchSchema(prefix + Guid.NewGuid().ToString("N"));
        await ExecuteAsync($"CREATE SCHEMA {schema.Name}");
        return schema;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync($"DROP SCHEMA {Name} CASCADE");
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
