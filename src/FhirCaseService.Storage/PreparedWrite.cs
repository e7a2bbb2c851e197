using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage;

/// <summary>
/// A resource made ready for the database before any lock is taken: its id is fixed, and everything that costs CPU
/// (serialization, search-index values, the content hash that tells an unchanged re-send) is done. Only the version
/// number and lastUpdated, which the commit decides, are filled in under the lock. Immutable; the resource handed to
/// <see cref="IResourceStore.Prepare"/> is not touched afterwards. A preparation of a resource the caller handed over
/// (<see cref="IResourceStore.PrepareOwned"/>) keeps no resource at all, only the stored JSON, its hash and the index
/// rows: the POCO (several KB of small objects per resource) is garbage as soon as the preparation returns, instead of
/// living until its commit (a bulk import holds up to three chunks of 1,000 preparations).
/// </summary>
public sealed class PreparedResource
{
    private Resource? _untaken;

    internal PreparedResource(Resource? resource, string resourceType, string id, StoredJsonTemplate json, IndexEntries index)
    {
        _untaken = resource;
        Resource = resource;
        ResourceType = resourceType;
        Id = id;
        Json = json;
        Index = index;
    }

    public string ResourceType { get; }

    public string Id { get; }

    public string Reference => $"{ResourceType}/{Id}";

    /// <summary>
    /// The storage's own copy of what was prepared (for the implementation; callers keep their object); null when the
    /// preparation kept none (<see cref="IResourceStore.PrepareOwned"/>).
    /// </summary>
    internal Resource? Resource { get; }

    /// <summary>The stored JSON, waiting for its version and lastUpdated.</summary>
    internal StoredJsonTemplate Json { get; }

    /// <summary>SHA-256 of the stored JSON without meta.versionId and meta.lastUpdated: equal hashes, equal content.</summary>
    internal string ContentHash => Json.ContentHash;

    /// <summary>The search index rows (none depends on the version or lastUpdated: _lastUpdated is a column of the version row).</summary>
    internal IndexEntries Index { get; }

    /// <summary>
    /// The resource to hand back as written, stamped by the caller: the prepared copy itself the first time (no copy
    /// under the write lock), a fresh copy if the same preparation is written again (a retry after a rollback); null
    /// when the preparation kept no resource (the write's result then carries none).
    /// </summary>
    internal Resource? TakeResource() =>
        Resource is null ? null : Interlocked.Exchange(ref _untaken, null) ?? (Resource)Resource.DeepCopy();
}

public enum PreparedWriteKind
{
    /// <summary>Version 1; the id must be unused (<see cref="ResourceAlreadyExistsException"/> otherwise).</summary>
    Create,

    /// <summary>A new version, or version 1 when the id is unused (update-as-create).</summary>
    Update,
}

/// <param name="IfMatchVersion">Update only: the current version must be this one (<see cref="VersionConflictException"/>).</param>
/// <param name="KeepUnchanged">
/// Update only: when the current version holds the same content (apart from meta.versionId and meta.lastUpdated), no
/// new version is written and the result's <see cref="PreparedWriteResult.Unchanged"/> is true (idempotent re-sends).
/// </param>
public sealed record PreparedWrite(PreparedResource Resource, PreparedWriteKind Kind, int? IfMatchVersion = null, bool KeepUnchanged = true);

/// <summary>What one <see cref="PreparedWrite"/> did.</summary>
/// <param name="Stored">
/// the version written, or the current version when <paramref name="Unchanged"/>; its resource is null when the
/// preparation kept none (<see cref="IResourceStore.PrepareOwned"/>).
/// </param>
/// <param name="Created">a new resource (version 1, or the first version after a deletion).</param>
/// <param name="Unchanged">nothing was written: the current version already held this content.</param>
public sealed record PreparedWriteResult(StoredResource Stored, bool Created, bool Unchanged);
