using FhirCaseService.Storage.Persistence;
using Npgsql;

namespace FhirCaseService.Storage.Tests;

/// <summary>A database the contract tests run against; each call opens a fresh, empty, migrated store of its own.</summary>
public interface IStoreBackend
{
    Task<TestStore> OpenAsync(StorageOptions? template = null);
}

/// <summary>A store plus the clean-up of its database (temp directory or schema).</summary>
public sealed class TestStore(IResourceStore store, StorageOptions options, Func<Task> cleanUp) : IAsyncDisposable
{
    public IResourceStore Store { get; } = store;

    /// <summary>The options the store was opened with: open a second store on the same database with these (a replica).</summary>
    public StorageOptions Options { get; } = options;

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        await cleanUp();
    }
}

/// <summary>SQLite on a real file in a temporary directory (WAL needs a file, not :memory:).</summary>
public sealed class SqliteBackend : IStoreBackend
{
    public async Task<TestStore> OpenAsync(StorageOptions? template = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fhircase-storage-tests", Guid.NewGuid().ToString("N"));
        var options = Copy(template);
        options.Provider = StorageProvider.Sqlite;
        options.DataDirectory = directory;
        var store = await ResourceStoreFactory.OpenAsync(options);
        return new TestStore(store, options, () =>
        {
            Directory.Delete(directory, recursive: true);
            return Task.CompletedTask;
        });
    }

    internal static StorageOptions Copy(StorageOptions? template) => new()
    {
        DefaultPageSize = template?.DefaultPageSize ?? 20,
        MaxPageSize = template?.MaxPageSize ?? 1000,
        Durability = template?.Durability ?? StorageDurability.Full,
    };
}

/// <summary>
/// PostgreSQL from FHIRCASE_TEST_POSTGRES (tools/ci/start-postgres.sh sets it). Each store gets its own schema, so
/// tests are isolated and run in parallel; the schema is dropped afterwards.
/// </summary>
public sealed class PostgresBackend : IStoreBackend
{
    public const string Variable = FhirCaseService.TestSupport.TestPostgres.Variable;

    public static string ConnectionString => FhirCaseService.TestSupport.TestPostgres.ConnectionString;

    public async Task<TestStore> OpenAsync(StorageOptions? template = null)
    {
        var schema = "t_" + Guid.NewGuid().ToString("N");
        var admin = ConnectionString;
        try
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"Cannot reach PostgreSQL for the storage tests ({e.Message}). Run `source tools/ci/start-postgres.sh` (as root) " +
                $"or set {Variable} to a connection string of a role that may create schemas.", e);
        }
        var options = SqliteBackend.Copy(template);
        options.Provider = StorageProvider.PostgreSql;
        options.ConnectionString = new NpgsqlConnectionStringBuilder(admin) { SearchPath = schema, MaxPoolSize = 10 }.ConnectionString;
        var store = await ResourceStoreFactory.OpenAsync(options);
        return new TestStore(store, options, async () =>
        {
            await using var connection = new NpgsqlConnection(admin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA {schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        });
    }
}
