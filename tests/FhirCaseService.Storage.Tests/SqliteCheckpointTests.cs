using System.Diagnostics;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.TestSupport;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// WAL checkpoints run beside the writers, not inside their commits (<see cref="SqliteCheckpointer"/>): no connection
/// the store opens checkpoints at commit, the checkpointer copies the WAL into the database, and under continuous
/// writes it completes a checkpoint under the writers' gate so the WAL starts over instead of growing without end.
/// </summary>
public sealed class SqliteCheckpointTests
{
    /// <summary>Small, so a few transactions cross it.</summary>
    private const int RestartFrames = 64;

    [Fact]
    public async Task No_connection_of_the_store_checkpoints_inside_a_commit()
    {
        var directory = new TemporaryDirectory("fhircase-checkpoint-tests");
        object? setting;
        await using (var fixture = await Fixture.OpenAsync(directory))
        {
            await using var connection = await fixture.Dialect.OpenAsync(CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_autocheckpoint";
            setting = await command.ExecuteScalarAsync();
        }
        directory.Delete();

        Assert.Equal(0L, setting);
    }

    [Fact]
    public async Task Under_continuous_writes_the_wal_starts_over_and_every_write_survives_a_reopen()
    {
        var directory = new TemporaryDirectory("fhircase-checkpoint-tests");
        var written = new List<string>();
        StorageOptions options;
        await using (var fixture = await Fixture.OpenAsync(directory))
        {
            options = fixture.Options;
            var watch = Stopwatch.StartNew();
            // Writers never pause: only the checkpoint under the gate can let the WAL start over.
            while (fixture.Dialect.Checkpointer.GatedRuns == 0 && watch.Elapsed < TimeSpan.FromSeconds(60))
                written.Add(await WriteAsync(fixture.Store, $"c{written.Count:D4}"));
            Assert.True(fixture.Dialect.Checkpointer.GatedRuns > 0, $"no checkpoint under the gate after {written.Count} transactions");
            Assert.Null(fixture.Dialect.Checkpointer.LastFailure);

            await WriteAsync(fixture.Store, "after");
            var (log, checkpointed) = await CheckpointAsync(fixture.Dialect);
            // The WAL was written again from its start: it holds the last transaction or two, not everything since the start.
            Assert.InRange(log, 0, RestartFrames * 4);
            Assert.Equal(log, checkpointed);
        }

        // The same file, opened afresh: what the checkpoints copied and what the WAL still held are all there.
        await using (var reopened = await ResourceStoreFactory.OpenAsync(options))
            foreach (var prefix in written)
                Assert.Equal(ReadStatus.Found, (await reopened.ReadAsync("Patient", $"{prefix}-patient")).Status);
        directory.Delete();
    }

    private static async Task<string> WriteAsync(IResourceStore store, string prefix)
    {
        var writes = Enumerable.Range(0, 4)
            .Select(i => new PreparedWrite(store.Prepare(Examples.Patient($"{prefix}{i}")), PreparedWriteKind.Update))
            .ToList();
        await store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct));
        return prefix + "0";
    }

    private static async Task<(long Log, long Checkpointed)> CheckpointAsync(SqlDialect dialect)
    {
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(1), reader.GetInt64(2));
    }

    private sealed class Fixture : IAsyncDisposable
    {
        private Fixture(SqliteDialect dialect, IResourceStore store, StorageOptions options)
        {
            Dialect = dialect;
            Store = store;
            Options = options;
        }

        public SqliteDialect Dialect { get; }

        public IResourceStore Store { get; }

        public StorageOptions Options { get; }

        /// <summary>A store on a file in <paramref name="directory"/>, which outlives the fixture (the caller deletes it).</summary>
        public static async Task<Fixture> OpenAsync(TemporaryDirectory directory)
        {
            var options = SqliteBackend.Copy(null);
            options.Provider = StorageProvider.Sqlite;
            options.DataDirectory = directory.Path;
            var dialect = new SqliteDialect("Data Source=" + Path.Combine(directory.Path, ResourceStoreFactory.SqliteFileName),
                options.BusyTimeout, options.Durability, RestartFrames);
            await SchemaMigrator.MigrateAsync(dialect, CancellationToken.None);
            return new Fixture(dialect, new ResourceStore(dialect, options, SearchParameterCatalog.Shared), options);
        }

        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }
}
