using FhirCaseService.Storage.Persistence;

namespace FhirCaseService.Storage.Tests;

/// <summary>A database the contract tests run against; each call opens a fresh, empty, migrated store of its own.</summary>
public interface IStoreBackend
{
    Task<TestStore> OpenAsync(StorageOptions? template = null);

    /// <summary>
    /// A fresh database brought only up to schema <paramref name="version"/>, as an older service left it (fill it with
    /// <see cref="OlderSchema.CopyRowsAsync"/>); a store opened on its options upgrades it.
    /// </summary>
    Task<OlderDatabase> CreateAtSchemaAsync(int version);
}

/// <summary>A database at an older schema version, its dialect open for filling it, and its clean-up.</summary>
public sealed class OlderDatabase : IAsyncDisposable
{
    private readonly Func<Task> _cleanUp;

    internal OlderDatabase(StorageOptions options, int version, SqlDialect dialect, Func<Task> cleanUp)
    {
        Options = options;
        Version = version;
        Dialect = dialect;
        _cleanUp = cleanUp;
    }

    public StorageOptions Options { get; }

    public int Version { get; }

    internal SqlDialect Dialect { get; }

    public async ValueTask DisposeAsync()
    {
        await Dialect.DisposeAsync();
        await _cleanUp();
    }
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

    public async Task<OlderDatabase> CreateAtSchemaAsync(int version)
    {
        var directory = new TemporaryDirectory("fhircase-storage-tests");
        var options = Copy(null);
        options.Provider = StorageProvider.Sqlite;
        options.DataDirectory = directory.Path;
        var dialect = await ResourceStoreFactory.OpenDialectAsync(options, version, CancellationToken.None);
        return new OlderDatabase(options, version, dialect, () =>
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
        SortableTokenParameters = [.. template?.SortableTokenParameters ?? []],
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

    public async Task<OlderDatabase> CreateAtSchemaAsync(int version)
    {
        var schema = await PostgresSchema.CreateAsync("t_");
        var options = SqliteBackend.Copy(null);
        options.Provider = StorageProvider.PostgreSql;
        options.ConnectionString = schema.ConnectionString;
        var dialect = await ResourceStoreFactory.OpenDialectAsync(options, version, CancellationToken.None);
        return new OlderDatabase(options, version, dialect, async () => await schema.DisposeAsync());
    }
}
