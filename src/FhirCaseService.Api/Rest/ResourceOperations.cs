using FhirCaseService.Api.Http;
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
/// The deletions as the FHIR REST spec defines them, run inside a store transaction (SQL only: nothing to prepare),
/// shared by the single-resource endpoints and <see cref="WritePipeline"/>. Creates and updates go through the pipeline.
/// </summary>
public static class ResourceOperations
{
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
}
