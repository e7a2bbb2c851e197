using FhirCaseService.Api.Http;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Rewrites the references of a Bundle entry's resource to what the server stored: a fullUrl of another entry
/// (<c>urn:uuid:...</c>, or an absolute url) becomes <c>Type/id</c>; a conditional reference (<c>Patient?identifier=s|v</c>)
/// becomes the single resource it selects. Every Reference at any depth is visited: inside extensions, backbone
/// elements and contained resources alike.
/// </summary>
public static class ReferenceRewriter
{
    public delegate Task<string> ConditionalResolver(string conditionalReference, CancellationToken cancellationToken);

    /// <summary>A reference as the client sent it: rewriting starts from this value each time, so a retried preparation sees no earlier attempt's ids.</summary>
    public sealed record SentReference(ResourceReference Reference, string Value);

    /// <summary>The references of a resource that may need rewriting (not empty, not to a contained resource), found in one walk.</summary>
    public static IReadOnlyList<SentReference> Collect(Resource resource) =>
        [.. ReferencesIn(resource)
            .Where(r => !string.IsNullOrEmpty(r.Reference) && !r.Reference.StartsWith('#'))
            .Select(r => new SentReference(r, r.Reference!))];

    public static async Task RewriteAsync(
        IReadOnlyList<SentReference> references,
        IReadOnlyDictionary<string, string> identities,
        ConditionalResolver resolveConditional,
        CancellationToken cancellationToken)
    {
        foreach (var (reference, value) in references)
        {
            if (identities.TryGetValue(value, out var target))
                reference.Reference = target;
            else if (value.StartsWith("urn:uuid:", StringComparison.OrdinalIgnoreCase) || value.StartsWith("urn:oid:", StringComparison.OrdinalIgnoreCase))
                throw FhirRequestException.BadRequest($"The reference {value} matches no entry's fullUrl in the Bundle.");
            else if (IsConditional(value))
                reference.Reference = await resolveConditional(value, cancellationToken);
            else
                reference.Reference = value;
        }
    }

    /// <summary><c>Type?search</c>: a resource type, then a query, and no slash before it.</summary>
    public static bool IsConditional(string reference)
    {
        var question = reference.IndexOf('?', StringComparison.Ordinal);
        return question > 0 && reference.IndexOf('/', StringComparison.Ordinal) is var slash && (slash < 0 || slash > question);
    }

    /// <summary>Every ResourceReference in the tree, including those nested in other references' extensions.</summary>
    public static IEnumerable<ResourceReference> ReferencesIn(Base node)
    {
        foreach (var (_, value) in node.EnumerateElements())
        {
            switch (value)
            {
                case Base child:
                    foreach (var found in Visit(child))
                        yield return found;
                    break;
                case IEnumerable<Base> children:
                    foreach (var child in children)
                        foreach (var found in Visit(child))
                            yield return found;
                    break;
            }
        }
    }

    private static IEnumerable<ResourceReference> Visit(Base child)
    {
        if (child is ResourceReference reference)
            yield return reference;
        foreach (var nested in ReferencesIn(child))
            yield return nested;
    }

    /// <summary>
    /// The names a fullUrl is known by: itself, and for an absolute RESTful url also its <c>Type/id</c> tail, since a
    /// relative reference in a Bundle resolves against the base of the entry's fullUrl.
    /// </summary>
    public static IEnumerable<string> AliasesOf(string fullUrl)
    {
        yield return fullUrl;
        if (!Uri.TryCreate(fullUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            yield break;
        var segments = uri.AbsolutePath.Trim('/').Split('/');
        if (segments.Length >= 2 && ModelInfo.IsKnownResource(segments[^2]))
            yield return $"{segments[^2]}/{segments[^1]}";
    }
}
