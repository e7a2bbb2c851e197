using System.Diagnostics;
using FhirCaseService.Storage.Indexing;
using Microsoft.Extensions.Logging;

namespace FhirCaseService.Storage.Persistence;

/// <summary>Opens the store the options select and brings its schema up to date before returning it.</summary>
public static class ResourceStoreFactory
{
    public const string SqliteFileName = "fhircase.db";

    public static async Task<IResourceStore> OpenAsync(StorageOptions options, CancellationToken cancellationToken = default) =>
        new ResourceStore(await OpenDialectAsync(options, cancellationToken), options, SearchParameterCatalog.Shared);

    /// <summary>The dialect the options select, its schema brought up to date.</summary>
    internal static Task<SqlDialect> OpenDialectAsync(StorageOptions options, CancellationToken cancellationToken, ILogger? logger = null) =>
        OpenDialectAsync(options, SchemaMigrator.LatestVersion, cancellationToken, logger);

    /// <summary>The dialect the options select, its schema brought up to <paramref name="schemaVersion"/> (tests: an older database).</summary>
    internal static async Task<SqlDialect> OpenDialectAsync(StorageOptions options, int schemaVersion, CancellationToken cancellationToken, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Check();
        SqlDialect dialect = options.Provider switch
        {
            StorageProvider.PostgreSql => new PostgresDialect(options.ConnectionString!, options.Durability),
            _ => new SqliteDialect(
                string.IsNullOrWhiteSpace(options.ConnectionString)
                    ? "Data Source=" + Path.Combine(options.DataDirectory, SqliteFileName)
                    : options.ConnectionString,
                options.BusyTimeout, options.Durability),
        };
        long? upgradeStarted = null;
        try
        {
            await SchemaMigrator.MigrateAsync(dialect, schemaVersion, cancellationToken, (from, to) =>
            {
                upgradeStarted = Stopwatch.GetTimestamp();
                logger?.LogWarning("Upgrading the database schema from version {From} to {To}. On a large SQLite database this rewrites most of " +
                                   "the file in one transaction and can take minutes, with free disk about the file's size; requests that need the " +
                                   "database wait until it is done (docs/storage.md, schema v8).", from, to);
            });
            if (upgradeStarted is { } started)
                logger?.LogInformation("Database schema upgraded to version {To} in {Seconds:F1} s.", schemaVersion, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch
        {
            await dialect.DisposeAsync();
            throw;
        }
        return dialect;
    }
}
