using FhirCaseService.Storage;

namespace FhirCaseService.TestSupport;

/// <summary>A database of one service host: its storage settings, and its removal afterwards.</summary>
public abstract class TestDatabase
{
    public abstract StorageProvider Provider { get; }

    /// <summary>Creates the empty database and returns the <c>Storage:*</c> settings that point the service at it.</summary>
    public abstract Task<IReadOnlyDictionary<string, string?>> CreateAsync();

    public abstract Task DropAsync();
}

/// <summary>A fresh SQLite file in a temporary directory (export and import files beside it).</summary>
public sealed class SqliteTestDatabase : TestDatabase
{
    private readonly TemporaryDirectory _directory = new("fhircase-test-hosts");

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override Task<IReadOnlyDictionary<string, string?>> CreateAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.Sqlite),
            ["Storage:DataDirectory"] = _directory.Path,
        });

    public override Task DropAsync()
    {
        _directory.Delete();
        return Task.CompletedTask;
    }
}

/// <summary>
/// A schema of its own in the test PostgreSQL (<see cref="PostgresSchema"/>), so hosts are isolated and run side by
/// side; export and import files in a temporary directory. Both are removed afterwards.
/// </summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    public const string Variable = TestPostgres.Variable;

    private readonly TemporaryDirectory _directory = new("fhircase-test-hosts");
    private PostgresSchema? _schema;

    public override StorageProvider Provider => StorageProvider.PostgreSql;

    public override async Task<IReadOnlyDictionary<string, string?>> CreateAsync()
    {
        _schema = await PostgresSchema.CreateAsync("host_");
        return new Dictionary<string, string?>
        {
            ["Storage:Provider"] = nameof(StorageProvider.PostgreSql),
            ["Storage:ConnectionString"] = _schema.ConnectionString,
            ["Storage:DataDirectory"] = _directory.Path,
        };
    }

    public override async Task DropAsync()
    {
        if (_schema is not null)
            await _schema.DisposeAsync();
        _directory.Delete();
    }
}
