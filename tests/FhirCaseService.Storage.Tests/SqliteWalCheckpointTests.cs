using FhirCaseService.Storage.Persistence;
using FhirCaseService.TestSupport;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Store connections checkpoint the WAL every <see cref="SqliteDialect.WalCheckpointBytes"/> (32 MiB, in pages of the file's
/// size) instead of SQLite's 1,000 pages: the write path touches the same index pages commit after commit, so a rarer
/// checkpoint copies each page once for many commits (measured in docs/performance.md); the WAL stays bounded by that
/// size. A new file gets <see cref="StorageOptions.SqlitePageSize"/>; an existing one keeps its own.
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
            Assert.Equal((long)(SqliteDialect.WalCheckpointBytes / StorageOptions.DefaultSqlitePageSize), await command.ExecuteScalarAsync());
            Assert.Equal(SqliteDialect.WalCheckpointBytes / StorageOptions.DefaultSqlitePageSize, dialect.WalCheckpointPages);

            await using (var create = connection.CreateCommand())
            {
                create.CommandText = "CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB)";
                await create.ExecuteNonQueryAsync();
            }
            // Three times the checkpoint size in rows of about 4 KB, one commit each: commits past the threshold
            // checkpoint, so the WAL is reused from its start instead of holding every page written.
            for (var i = 0; i < SqliteDialect.WalCheckpointBytes / 4096 * 3 / 16; i++)
            {
                await using var insert = connection.CreateCommand();
                insert.CommandText = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 16) INSERT INTO filler (body) SELECT zeroblob(4000) FROM n";
                await insert.ExecuteNonQueryAsync();
            }
            await using var size = connection.CreateCommand();
            size.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            await using var reader = await size.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            // At most the threshold plus the last commit's pages (16 rows of 4,000 bytes, in pages of the default size).
            Assert.InRange(reader.GetInt64(1), 0, dialect.WalCheckpointPages + 16 * 4096 / StorageOptions.DefaultSqlitePageSize + 16);
        }
        finally
        {
            await dialect.DisposeAsync();
            directory.Delete();
        }
    }

    [Fact]
    public async Task A_new_file_gets_the_configured_page_size_and_an_existing_file_keeps_its_own()
    {
        var directory = new TemporaryDirectory("fhircase-page-size-tests");
        var options = SqliteBackend.Copy(null);
        var connectionString = "Data Source=" + Path.Combine(directory.Path, ResourceStoreFactory.SqliteFileName);
        try
        {
            var created = new SqliteDialect(connectionString, options.BusyTimeout, options.Durability, newFilePageSize: 1024);
            try
            {
                await SchemaMigrator.MigrateAsync(created, CancellationToken.None);
                Assert.Equal(1024, created.PageSize);
                Assert.Equal(1024L, await PragmaAsync(created, "page_size"));
                Assert.Equal((long)(SqliteDialect.WalCheckpointBytes / 1024), await PragmaAsync(created, "wal_autocheckpoint"));
                Assert.Equal("wal", await PragmaTextAsync(created, "journal_mode"));
            }
            finally
            {
                await created.DisposeAsync();
            }

            // Opened again with another setting: the file keeps the size it was made with, and checkpoints by it.
            var reopened = new SqliteDialect(connectionString, options.BusyTimeout, options.Durability, newFilePageSize: 8192);
            try
            {
                await SchemaMigrator.MigrateAsync(reopened, CancellationToken.None);
                Assert.Equal(1024, reopened.PageSize);
                Assert.Equal(1024L, await PragmaAsync(reopened, "page_size"));
                Assert.Equal((long)(SqliteDialect.WalCheckpointBytes / 1024), await PragmaAsync(reopened, "wal_autocheckpoint"));
            }
            finally
            {
                await reopened.DisposeAsync();
            }
        }
        finally
        {
            directory.Delete();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(256)]
    [InlineData(1000)]
    [InlineData(131_072)]
    public async Task A_page_size_that_is_not_a_power_of_two_from_512_to_65536_stops_the_start_with_a_message(int pageSize)
    {
        var directory = new TemporaryDirectory("fhircase-page-size-tests");
        try
        {
            var options = new StorageOptions { Provider = StorageProvider.Sqlite, DataDirectory = directory.Path, SqlitePageSize = pageSize };
            var error = await Assert.ThrowsAsync<InvalidStorageRequestException>(() => ResourceStoreFactory.OpenDialectAsync(options, CancellationToken.None));
            Assert.Contains("Storage:SqlitePageSize", error.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(directory.Path, ResourceStoreFactory.SqliteFileName)));
        }
        finally
        {
            directory.Delete();
        }
    }

    private static async Task<object?> PragmaAsync(SqliteDialect dialect, string pragma)
    {
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {pragma}";
        return await command.ExecuteScalarAsync();
    }

    private static async Task<string?> PragmaTextAsync(SqliteDialect dialect, string pragma) => (await PragmaAsync(dialect, pragma))?.ToString();
}
