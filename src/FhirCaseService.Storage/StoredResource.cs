using Hl7.Fhir.Model;

namespace FhirCaseService.Storage;

/// <summary>
/// One stored version. <see cref="Resource"/> carries meta.versionId and meta.lastUpdated as stored and is null for a
/// deletion, and in the result of a write prepared without keeping its resource (<see cref="IResourceStore.PrepareOwned"/>). <see cref="ChangeSequence"/> orders commits across the whole database (shared by a transaction's writes).
/// </summary>
public sealed record StoredResource(
    string ResourceType,
    string Id,
    int VersionId,
    DateTimeOffset LastUpdated,
    long ChangeSequence,
    bool IsDeleted,
    Resource? Resource)
{
    /// <summary>"Type/id/_history/n", the form FHIR uses for a version's location.</summary>
    public string VersionedReference => $"{ResourceType}/{Id}/_history/{VersionId}";
}

public sealed record UpdateResult(StoredResource Stored, bool Created);

public enum ReadStatus
{
    Found,
    /// <summary>The resource (or the version asked for) is a deletion: the API answers 410 Gone.</summary>
    Deleted,
    NotFound,
}

/// <summary>A read's answer; <see cref="Version"/> is the found or deletion version, null when not found.</summary>
public sealed record ReadResult(ReadStatus Status, StoredResource? Version)
{
    public static ReadResult NotFound { get; } = new(ReadStatus.NotFound, null);

    public static ReadResult Of(StoredResource version) => new(version.IsDeleted ? ReadStatus.Deleted : ReadStatus.Found, version);
}

/// <summary>A committed point of the store: the change sequence and the lastUpdated that transaction stamped.</summary>
public sealed record ChangeMark(long Sequence, DateTimeOffset LastUpdated);
