using FhirCaseService.Storage.Persistence;
using FhirCaseService.TestSupport;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Store connections checkpoint the WAL every <see cref="SqliteDialect.WalCheckpointPages"/> pages instead of SQLite's
/// 1,000: the write path touches the same index pages commit after commit, so a rarer checkpoint copies each page once
/// for many commits (measured in docs/performance.md); the WAL stays bounded by that size.
/// </summary>
public sealed class SqliteWalCheckpointTests
{
    [Fact]
    public async Task Store_connections_checkpoint_at_the_larger_wal_size_and_the_wal_stays_bounded_under_writes()
    {
        var directory = new TemporaryDirectory("fhircase-wal-checkpoint-tests");
        var options = SqliteBackend.Copy(null);
        var dialect = new SqliteDialect("Data Source=" + Path.Combine(directory.Path, ResourceStoreFactory.SqliteFileName),
            options.BusyTimeout, options.Durability);
        try
        {
            await SchemaMigrator.MigrateAsync(dialect, CancellationToken.None);
            await using var connection = await dialect.OpenAsync(CancellationToken.None);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_autocheckpoint";
            Assert.Equal((long)SqliteDialect.WalCheckpointPages, await command.ExecuteScalarAsync());

            await using (var create = connection.CreateCommand())
            {
                create.CommandText = "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)";
                await create.ExecuteNonQueryAsync();
            }
            // Three times the checkpoint size in 4 KiB rows, one commit each: commits past the threshold checkpoint, so
            // the WAL is reused from its start instead of holding every page written.
            for (var i = 0; i < SqliteDialect.WalCheckpointPages * 3 / 16; i++)
            {
                await using var insert = connection.CreateCommand();
                insert.CommandText = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 16) INSERT INTO filler (body) SELECT zeroblob(4000) FROM n";
                await insert.ExecuteNonQueryAsync();
            }
            await using var size = connection.CreateCommand();
            size.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            await using var reader = await size.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.InRange(reader.GetInt64(1), 0, SqliteDialect.WalCheckpointPages + 64);
        }
        finally
        {
            await dialect.DisposeAsync();
            directory.Delete();
        }
    }
}
