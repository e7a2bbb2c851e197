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
                options.BusyTimeout, options.Durability, options.SqlitePageSize),
        };
        long? upgradeStarted = null;
        long? reconcileStarted = null;
        SortableTokenChange? change = null;
        try
        {
            await SchemaMigrator.MigrateAsync(dialect, schemaVersion, cancellationToken, (from, to) =>
            {
                upgradeStarted = Stopwatch.GetTimestamp();
                logger?.LogWarning("Upgrading the database schema from version {From} to {To}. On a large SQLite database an upgrade through version 8 " +
                                   "rewrites most of the file in one transaction and can take minutes, with free disk about the file's size; requests " +
                                   "that need the database wait until it is done (docs/storage.md, schema v8).", from, to);
            }, options.SortableTokens(), reconciling =>
            {
                // The upgrade's own duration ends where the sort rows start changing (both run in one transaction).
                if (upgradeStarted is { } upgrading)
                    logger?.LogInformation("Database schema upgraded to version {To} in {Seconds:F1} s.", schemaVersion, Stopwatch.GetElapsedTime(upgrading).TotalSeconds);
                upgradeStarted = null;
                reconcileStarted = Stopwatch.GetTimestamp();
                change = reconciling;
                logger?.LogWarning("The sortable token parameters (Search:SortableTokenParameters) changed from [{From}] to [{To}] ('*': every token " +
                                   "parameter, as schema 8 and older stored): deleting the sort-key rows of parameters no longer declared and computing " +
                                   "those of newly declared ones from the token index. On a large database this takes minutes; requests that need the " +
                                   "database wait until it is done (docs/storage.md, sortable token parameters).",
                    string.Join(", ", reconciling.From), string.Join(", ", reconciling.To));
            });
            if (upgradeStarted is { } started)
                logger?.LogInformation("Database schema upgraded to version {To} in {Seconds:F1} s.", schemaVersion, Stopwatch.GetElapsedTime(started).TotalSeconds);
            if (reconcileStarted is { } reconciled && change is not null)
                logger?.LogInformation("Token sort-key rows brought in line with Search:SortableTokenParameters in {Seconds:F1} s: {Deleted} deleted, {Filled} computed.",
                    Stopwatch.GetElapsedTime(reconciled).TotalSeconds, change.Deleted, change.Filled);
        }
        catch
        {
            await dialect.DisposeAsync();
            throw;
        }
        return dialect;
    }
}
