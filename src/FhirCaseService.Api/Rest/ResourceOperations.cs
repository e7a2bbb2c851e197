using FhirCaseService.Api.Http;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>What a write did: the version it produced (or found), and the HTTP status that reports it.</summary>
public sealed record WriteOutcome(StoredResource? Stored, int Status, string Message)
{
    public string StatusLine => Status switch
    {
        StatusCodes.Status201Created => "201 Created",
        StatusCodes.Status204NoContent => "204 No Content",
        _ => "200 OK",
    };
}

/// <summary>
/// The write interactions as the FHIR REST spec defines them, run inside a store transaction, shared by the single
/// resource endpoints and the entries of a transaction or batch Bundle. Resources handed in are the caller's to give up.
/// </summary>
public static class ResourceOperations
{
    /// <summary>create, or conditional create when <paramref name="ifNoneExist"/> is given (none: create; one: that one, 200; several: 412).</summary>
    public static async Task<WriteOutcome> CreateAsync(IResourceTransaction tx, Resource resource, string? assignedId, string? ifNoneExist, CancellationToken cancellationToken)
    {
        if (ifNoneExist is not null)
        {
            var criteria = Criteria.Parse(resource.TypeName, ifNoneExist, "If-None-Exist");
            var existing = await Criteria.FindSingleAsync(tx, criteria, $"If-None-Exist {ifNoneExist}", cancellationToken);
            if (existing is not null)
                return new WriteOutcome(existing, StatusCodes.Status200OK, $"{existing.ResourceType}/{existing.Id} matches If-None-Exist; nothing was created.");
        }
        // The server assigns the id of a created resource, whatever the client put there.
        resource.Id = assignedId ?? tx.NewId();
        var stored = await tx.CreateAsync(resource, cancellationToken);
        return new WriteOutcome(stored, StatusCodes.Status201Created, $"Created {stored.VersionedReference}.");
    }

    /// <summary>
    /// update (creating with the client's id when absent). Sending what is already stored is a no-op: no new version,
    /// so that re-sending the same data (a re-import) changes nothing.
    /// </summary>
    public static async Task<WriteOutcome> UpdateAsync(IResourceTransaction tx, Resource resource, int? ifMatch, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(resource.Id))
            throw FhirRequestException.BadRequest($"An update needs the {resource.TypeName}'s id.", $"{resource.TypeName}.id");
        // FHIR's id pattern admits them, but no URL can address them: every client normalises them away as path segments.
        if (resource.Id is "." or "..")
            throw FhirRequestException.BadRequest($"'{resource.Id}' cannot be an id: as a URL path segment it means the current or parent level.", $"{resource.TypeName}.id");
        var current = await tx.ReadAsync(resource.TypeName, resource.Id, cancellationToken);
        if (ifMatch is int expected && (current.Status != ReadStatus.Found || current.Version!.VersionId != expected))
            throw new VersionConflictException(resource.TypeName, resource.Id, expected, current.Status == ReadStatus.Found ? current.Version!.VersionId : null);
        if (current.Status == ReadStatus.Found && SameContent(current.Version!.Resource!, resource))
            return new WriteOutcome(current.Version, StatusCodes.Status200OK, $"{current.Version!.VersionedReference} already holds this content; no new version.");
        var result = await tx.UpdateAsync(resource, ifMatch, cancellationToken);
        return result.Created
            ? new WriteOutcome(result.Stored, StatusCodes.Status201Created, $"Created {result.Stored.VersionedReference}.")
            : new WriteOutcome(result.Stored, StatusCodes.Status200OK, $"Updated {result.Stored.VersionedReference}.");
    }

    /// <summary>conditional update: no match creates (with the resource's id or a new one), one match updates it, several are a 412.</summary>
    public static async Task<WriteOutcome> ConditionalUpdateAsync(IResourceTransaction tx, Resource resource, string criteriaText, int? ifMatch, string? newId, CancellationToken cancellationToken)
    {
        var criteria = Criteria.Parse(resource.TypeName, criteriaText, "request.url");
        var match = await Criteria.FindSingleAsync(tx, criteria, $"{resource.TypeName}?{criteriaText.TrimStart('?')}", cancellationToken);
        if (match is null)
        {
            resource.Id = string.IsNullOrEmpty(resource.Id) ? newId ?? tx.NewId() : resource.Id;
            return await UpdateAsync(tx, resource, ifMatch, cancellationToken);
        }
        if (!string.IsNullOrEmpty(resource.Id) && resource.Id != match.Id)
            throw FhirRequestException.BadRequest(
                $"The criteria select {match.ResourceType}/{match.Id} but the resource's id is {resource.Id}.", $"{resource.TypeName}.id");
        resource.Id = match.Id;
        return await UpdateAsync(tx, resource, ifMatch, cancellationToken);
    }

    /// <summary>delete: a new deletion version; deleting what does not exist (or no longer exists) succeeds too.</summary>
    public static async Task<WriteOutcome> DeleteAsync(IResourceTransaction tx, string resourceType, string id, int? ifMatch, CancellationToken cancellationToken)
    {
        var deleted = await tx.DeleteAsync(resourceType, id, ifMatch, cancellationToken);
        return new WriteOutcome(deleted, StatusCodes.Status204NoContent,
            deleted is null ? $"{resourceType}/{id} does not exist; nothing to delete." : $"Deleted {resourceType}/{id}.");
    }

    /// <summary>conditional delete: the single match is deleted; none is a success; several are a 412.</summary>
    public static async Task<WriteOutcome> ConditionalDeleteAsync(IResourceTransaction tx, string resourceType, string criteriaText, CancellationToken cancellationToken)
    {
        var criteria = Criteria.Parse(resourceType, criteriaText, "request.url");
        var match = await Criteria.FindSingleAsync(tx, criteria, $"{resourceType}?{criteriaText.TrimStart('?')}", cancellationToken);
        return match is null
            ? new WriteOutcome(null, StatusCodes.Status204NoContent, $"No {resourceType} matches; nothing to delete.")
            : await DeleteAsync(tx, resourceType, match.Id, null, cancellationToken);
    }

    /// <summary>Same content apart from what the server stamps (meta.versionId, meta.lastUpdated).</summary>
    private static bool SameContent(Resource stored, Resource incoming) =>
        string.Equals(Canonical(stored), Canonical(incoming), StringComparison.Ordinal);

    private static string Canonical(Resource resource)
    {
        var copy = (Resource)resource.DeepCopy();
        if (copy.Meta is { } meta)
        {
            meta.VersionId = null;
            meta.LastUpdated = null;
            if (meta.IsEmpty())
                copy.Meta = null;
        }
        return FhirSerialization.ToJson(copy);
    }

    private static bool IsEmpty(this Meta meta) => !meta.EnumerateElements().Any();
}
