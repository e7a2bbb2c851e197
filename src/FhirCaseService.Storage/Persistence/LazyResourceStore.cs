using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The DI registration: the resource store over the process's <see cref="StorageDatabase"/>, opened (and migrated) on
/// first use. Disposing it closes the database (the container disposes it once, at shutdown).
/// </summary>
internal sealed class LazyResourceStore(StorageDatabase database) : IResourceStore
{
    private Task<IResourceStore> StoreAsync(CancellationToken cancellationToken) => database.ResourcesAsync(cancellationToken);

    public string NewId() => ResourceStore.CreateId();

    public PreparedResource Prepare(Resource resource) => database.Preparer.Prepare(resource);

    public PreparedResource PrepareOwned(Resource resource) => database.Preparer.Prepare(resource, owned: true);

    public async Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).CreateAsync(resource, cancellationToken);

    public async Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).UpdateAsync(resource, ifMatchVersion, cancellationToken);

    public async Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).DeleteAsync(resourceType, id, ifMatchVersion, cancellationToken);

    public async Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).ReadAsync(resourceType, id, cancellationToken);

    public async Task<ReadResult> VReadAsync(string resourceType, string id, int versionId, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).VReadAsync(resourceType, id, versionId, cancellationToken);

    public async Task<IReadOnlySet<string>> ExistingIdsAsync(string resourceType, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).ExistingIdsAsync(resourceType, ids, cancellationToken);

    public async Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).HistoryAsync(query, cancellationToken);

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).SearchAsync(query, cancellationToken);

    public async Task<SearchResult> EverythingAsync(EverythingQuery query, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).EverythingAsync(query, cancellationToken);

    public async Task<T> TransactionAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).TransactionAsync(work, cancellationToken);

    public async Task<ChangeMark> CurrentChangeAsync(CancellationToken cancellationToken = default) =>
        await (await StoreAsync(cancellationToken)).CurrentChangeAsync(cancellationToken);

    public ValueTask DisposeAsync() => database.DisposeAsync();
}
