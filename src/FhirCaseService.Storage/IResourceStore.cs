using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage;

/// <summary>
/// The versioned FHIR resource store: every version kept, deletes are versions, search index rows written with
/// each version. One implementation over SQLite and PostgreSQL (<see cref="StorageOptions.Provider"/>).
/// Thread-safe; one instance per process (register it with <c>AddFhirCaseStorage</c>).
/// </summary>
public interface IResourceStore : IAsyncDisposable
{
    /// <summary>A fresh server-assigned id (32 lowercase hex digits), usable before any write (urn:uuid rewriting).</summary>
    string NewId();

    /// <summary>
    /// Makes a resource ready to write (serialized, index values extracted, content hashed) without touching the
    /// database: call it before <see cref="TransactionAsync{T}"/> so the transaction holds the write lock for SQL only.
    /// <c>resource.Id</c> must be set. Thread-safe; the resource is copied, so the caller may keep using it.
    /// </summary>
    /// <exception cref="InvalidStorageRequestException">no id, an invalid id, or an unknown resource type.</exception>
    PreparedResource Prepare(Resource resource);

    /// <summary>
    /// <see cref="Prepare"/> without the copy: the store takes <paramref name="resource"/> over (its meta and id are
    /// overwritten), so the caller must not use it afterwards. For a caller that parsed the resource for this write
    /// alone and never needs it back (the bulk import): the preparation keeps only what is stored (the stored JSON, its
    /// hash, the index rows), so the object can be collected before the commit, and the write's result then carries
    /// no resource (<see cref="StoredResource.Resource"/> null). A store that cannot take it over copies it.
    /// </summary>
    PreparedResource PrepareOwned(Resource resource) => Prepare(resource);

    /// <summary>Stores version 1. Uses <c>resource.Id</c> when set (it must be unused), else a new id.</summary>
    /// <exception cref="ResourceAlreadyExistsException">a resource with that id exists (or existed).</exception>
    Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default);

    /// <summary>Stores a new version of <c>resource.Id</c>, or version 1 when there is none (client-assigned id).</summary>
    /// <param name="ifMatchVersion">when given, the current version must be this one (If-Match).</param>
    /// <exception cref="VersionConflictException">the current version differs from <paramref name="ifMatchVersion"/>.</exception>
    Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default);

    /// <summary>Adds a deletion version. Null when the resource never existed; the existing deletion when already deleted.</summary>
    /// <exception cref="VersionConflictException">the current version differs from <paramref name="ifMatchVersion"/>.</exception>
    Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default);

    /// <summary>The current version: Found, Deleted (answer 410) or NotFound.</summary>
    Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default);

    /// <summary>One version: Found, Deleted (that version is a deletion) or NotFound.</summary>
    Task<ReadResult> VReadAsync(string resourceType, string id, int versionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Which of <paramref name="ids"/> name a current, not deleted <paramref name="resourceType"/> (referential
    /// integrity on write): a few queries for any number of ids, invalid ids simply absent from the answer.
    /// </summary>
    Task<IReadOnlySet<string>> ExistingIdsAsync(string resourceType, IReadOnlyCollection<string> ids, CancellationToken cancellationToken = default);

    /// <summary>Instance, type or system history, newest first, paged over a pinned snapshot.</summary>
    Task<HistoryPage> HistoryAsync(HistoryQuery query, CancellationToken cancellationToken = default);

    /// <summary>Runs a parsed search (see <see cref="SearchQuery.Parse"/>) over a pinned snapshot.</summary>
    Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken = default);

    /// <summary><c>Patient/[id]/$everything</c>: the patient and the resources in its compartment.</summary>
    Task<SearchResult> EverythingAsync(EverythingQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="work"/> as one database transaction: every write in it commits together or not at all
    /// (an exception from <paramref name="work"/> rolls everything back and propagates). All versions written share
    /// one change sequence number and one lastUpdated.
    /// </summary>
    Task<T> TransactionAsync<T>(Func<IResourceTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken = default);

    /// <summary>The last committed change: everything a later reader may see has a higher sequence (bulk export's transactionTime).</summary>
    Task<ChangeMark> CurrentChangeAsync(CancellationToken cancellationToken = default);
}

/// <summary>The operations available inside <see cref="IResourceStore.TransactionAsync{T}"/>; same contracts as the store's.</summary>
public interface IResourceTransaction
{
    string NewId();

    Task<StoredResource> CreateAsync(Resource resource, CancellationToken cancellationToken = default);

    Task<UpdateResult> UpdateAsync(Resource resource, int? ifMatchVersion = null, CancellationToken cancellationToken = default);

    Task<StoredResource?> DeleteAsync(string resourceType, string id, int? ifMatchVersion = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes prepared resources in one batch (current versions looked up in one query, rows inserted in multi-row
    /// statements): results in the order given. Each target may appear once. Fails as a whole on the first
    /// precondition that does not hold (If-Match, create of an existing id), rolling back with the transaction.
    /// </summary>
    Task<IReadOnlyList<PreparedWriteResult>> WriteAsync(IReadOnlyList<PreparedWrite> writes, CancellationToken cancellationToken = default);

    /// <summary>Reads the current version as this transaction sees it (including its own writes).</summary>
    Task<ReadResult> ReadAsync(string resourceType, string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Current resources matching <paramref name="criteria"/> as this transaction sees them: for conditional create
    /// (none: create; one: return it; several: 412) and conditional update/delete. Includes, sort and paging are ignored;
    /// at most <paramref name="limit"/> matches are returned.
    /// </summary>
    Task<IReadOnlyList<StoredResource>> FindAsync(SearchQuery criteria, int limit = 2, CancellationToken cancellationToken = default);
}
