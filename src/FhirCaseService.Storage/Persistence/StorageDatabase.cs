using FhirCaseService.Storage.Indexing;
using Microsoft.Extensions.Logging;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The one database of a process, opened (and migrated) on first use, once, without blocking a thread. Every store
/// over it (resources, export jobs, audit trail, token replay guard) shares its connection pool and dialect.
/// A failed open is not cached, so the next call retries (e.g. the database was still starting).
/// </summary>
internal sealed class StorageDatabase(StorageOptions options, ILogger? logger = null) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private SqlDialect? _dialect;
    private ResourceStore? _resources;

    public StorageOptions Options { get; } = options;

    /// <summary>
    /// Prepares writes before the database is open (a prepared resource's index rows depend only on the options), as
    /// the store does once it is.
    /// </summary>
    internal ResourcePreparer Preparer => _preparer ??= ResourcePreparer.For(Options, SearchParameterCatalog.Shared);

    private ResourcePreparer? _preparer;

    public async Task<SqlDialect> DialectAsync(CancellationToken cancellationToken)
    {
        if (_dialect is { } ready)
            return ready;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_dialect is null)
            {
                var dialect = await ResourceStoreFactory.OpenDialectAsync(Options, cancellationToken, logger);
                _resources = new ResourceStore(dialect, Options, SearchParameterCatalog.Shared);
                _dialect = dialect;
            }
            return _dialect;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IResourceStore> ResourcesAsync(CancellationToken cancellationToken) => await ResourceStoreAsync(cancellationToken);

    /// <summary>The resource store itself, whose group writer other stores of this database may join (the audit trail on SQLite).</summary>
    internal async Task<ResourceStore> ResourceStoreAsync(CancellationToken cancellationToken)
    {
        await DialectAsync(cancellationToken);
        return _resources!;
    }

    /// <summary>Idempotent: the container and the resource store may both dispose it.</summary>
    public async ValueTask DisposeAsync()
    {
        var dialect = Interlocked.Exchange(ref _dialect, null);
        if (dialect is null)
            return;
        // The resource store closes its group writer (and its kept connection) before the dialect.
        if (_resources is not null)
            await _resources.DisposeAsync();
        else
            await dialect.DisposeAsync();
    }
}
