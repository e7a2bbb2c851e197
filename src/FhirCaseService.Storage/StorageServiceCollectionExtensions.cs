using FhirCaseService.Storage.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Storage;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="IResourceStore"/> per process, opened lazily on first use: the schema is created or
    /// migrated then (idempotent; serialized across replicas on PostgreSQL). Call
    /// <see cref="ResourceStoreFactory.OpenAsync"/> at start-up instead when the host wants to fail fast.
    /// </summary>
    public static IServiceCollection AddFhirCaseStorage(this IServiceCollection services, Action<StorageOptions>? configure = null)
    {
        var options = services.AddOptions<StorageOptions>();
        if (configure is not null)
            options.Configure(configure);
        services.TryAddSingleton(provider => new StorageDatabase(provider.GetRequiredService<IOptions<StorageOptions>>().Value,
            provider.GetService<ILoggerFactory>()?.CreateLogger("FhirCaseService.Storage")));
        services.TryAddSingleton<IResourceStore>(provider => new LazyResourceStore(provider.GetRequiredService<StorageDatabase>()));
        services.TryAddSingleton<Audit.IAuditStore>(provider => new Audit.AuditStore(provider.GetRequiredService<StorageDatabase>()));
        services.TryAddSingleton<Export.IExportJobStore>(provider => new Export.ExportJobStore(provider.GetRequiredService<StorageDatabase>()));
        services.TryAddSingleton<Import.IImportJobStore>(provider => new Import.ImportJobStore(provider.GetRequiredService<StorageDatabase>(),
            postgresCopy: provider.GetRequiredService<IOptions<StorageOptions>>().Value.ImportPostgresCopy,
            sqliteCacheMegabytes: provider.GetRequiredService<IOptions<StorageOptions>>().Value.ImportSqliteCacheMegabytes));
        services.TryAddSingleton<Security.IReplayGuard>(provider => new Security.ReplayGuard(provider.GetRequiredService<StorageDatabase>(), TimeProvider.System));
        return services;
    }
}
