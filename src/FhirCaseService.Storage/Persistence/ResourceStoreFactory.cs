using FhirCaseService.Storage.Indexing;

namespace FhirCaseService.Storage.Persistence;

/// <summary>Opens the store the options select and brings its schema up to date before returning it.</summary>
public static class ResourceStoreFactory
{
    public const string SqliteFileName = "fhircase.db";

    public static async Task<IResourceStore> OpenAsync(StorageOptions options, CancellationToken cancellationToken = default) =>
        new ResourceStore(await OpenDialectAsync(options, cancellationToken), options, SearchParameterCatalog.Shared);

    /// <summary>The dialect the options select, its schema brought up to date.</summary>
    internal static Task<SqlDialect> OpenDialectAsync(StorageOptions options, CancellationToken cancellationToken) =>
        OpenDialectAsync(options, SchemaMigrator.LatestVersion, cancellationToken);

    /// <summary>The dialect the options select, its schema brought up to <paramref name="schemaVersion"/> (tests: an older database).</summary>
    internal static async Task<SqlDialect> OpenDialectAsync(StorageOptions options, int schemaVersion, CancellationToken cancellationToken)
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
        try
        {
            await SchemaMigrator.MigrateAsync(dialect, schemaVersion, cancellationToken);
        }
        catch
        {
            await dialect.DisposeAsync();
            throw;
        }
        return dialect;
    }
}
