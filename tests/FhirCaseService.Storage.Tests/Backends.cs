using FhirCaseService.Storage.Persistence;

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
        var directory = new TemporaryDirectory("fhircase-storage-tests");
        var options = Copy(template);
        options.Provider = StorageProvider.Sqlite;
        options.DataDirectory = directory.Path;
        var store = await ResourceStoreFactory.OpenAsync(options);
        return new TestStore(store, options, () =>
        {
            directory.Delete();
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

/// <summary>PostgreSQL (<see cref="TestPostgres"/>): each store gets a schema of its own (<see cref="PostgresSchema"/>), dropped afterwards.</summary>
public sealed class PostgresBackend : IStoreBackend
{
    public async Task<TestStore> OpenAsync(StorageOptions? template = null)
    {
        var schema = await PostgresSchema.CreateAsync("t_");
        var options = SqliteBackend.Copy(template);
        options.Provider = StorageProvider.PostgreSql;
        options.ConnectionString = schema.ConnectionString;
        var store = await ResourceStoreFactory.OpenAsync(options);
        return new TestStore(store, options, async () => await schema.DisposeAsync());
    }
}
