using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Persistence;

/// <summary>
/// The CPU work of a write, done before the write lock (<see cref="IResourceStore.Prepare"/>): a private copy, its
/// search index rows, its stored JSON as a template and the content hash. Thread-safe.
/// </summary>
internal sealed class ResourcePreparer(ResourceIndexer indexer)
{
    /// <summary>The preparer of a store with <paramref name="options"/> over <paramref name="catalog"/>.</summary>
    public static ResourcePreparer For(StorageOptions options, SearchParameterCatalog catalog) =>
        new(new ResourceIndexer(catalog, options.SortableTokens()));

    /// <param name="id">the id to store under; <c>resource.Id</c> when null.</param>
    /// <param name="owned">
    /// the caller hands <paramref name="resource"/> over (it parsed it for this write alone and never touches it again,
    /// as the bulk import does): it is prepared in place instead of being deep-copied, and not kept: the preparation holds
    /// only the stored JSON, the hash and the index rows, and the write's result carries no resource.
    /// </param>
    public PreparedResource Prepare(Resource resource, string? id = null, bool owned = false)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (!ModelInfo.IsKnownResource(resource.TypeName))
            throw new InvalidStorageRequestException($"'{resource.TypeName}' is not a FHIR R4 resource type.");
        id ??= resource.Id;
        if (string.IsNullOrEmpty(id) || !ResourceIds.IsValid(id))
            throw new InvalidStorageRequestException($"'{id}' is not a valid FHIR id (1 to 64 of A-Z, a-z, 0-9, '-' and '.').");
        var copy = owned ? resource : (Resource)resource.DeepCopy();
        copy.Id = id;
        // No search parameter reads meta.versionId or meta.lastUpdated (_lastUpdated is a column of the version row), so
        // the index rows are the same whatever the commit stamps.
        var index = indexer.Extract(copy);
        var json = StoredJsonTemplate.Of(copy);
        return new PreparedResource(owned ? null : copy, copy.TypeName, id, json, index);
    }
}
