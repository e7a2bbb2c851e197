using Hl7.Fhir.Specification.Source;
using Resource = Hl7.Fhir.Model.Resource;

namespace FhirCaseService.Conformance.Sources;

/// <summary>
/// Resolves a canonical against several sources in order; the first source holding it wins.
/// Sources cache their own parsed resources, so no extra cache layer is needed here.
/// </summary>
public sealed class ConformanceResolver : ICanonicalSource
{
    public ConformanceResolver(IReadOnlyList<ICanonicalSource> sources)
    {
        Sources = sources;
        Artifacts = sources.SelectMany(s => s.Artifacts).ToList();
    }

    /// <summary>The sources in the order they are asked.</summary>
    public IReadOnlyList<ICanonicalSource> Sources { get; }

    public string Name => string.Join(" + ", Sources.Select(s => s.Name));

    public IReadOnlyList<ArtifactDescriptor> Artifacts { get; }

    public Resource? Resolve(string canonical)
    {
        foreach (var source in Sources)
        {
            if (source.Resolve(canonical) is { } resource)
            {
                return resource;
            }
        }
        return null;
    }

    /// <summary>Canonical URLs of every resource of one type across all sources, first occurrence kept.</summary>
    public IEnumerable<string> ListCanonicals(string resourceType) =>
        Artifacts.Where(a => a.ResourceType == resourceType).Select(a => a.Url).Distinct(StringComparer.Ordinal);

    public ResolverResult TryResolveByCanonicalUri(string uri) => LazyArtifactSource.ToResult(Resolve(uri), uri);

    public ResolverResult TryResolveByUri(string uri)
    {
        foreach (var source in Sources)
        {
            var result = source.TryResolveByUri(uri);
            if (result.Success)
            {
                return result;
            }
        }
        return LazyArtifactSource.ToResult(null, uri);
    }

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) => Task.FromResult(TryResolveByCanonicalUri(uri));

    public Task<ResolverResult> TryResolveByUriAsync(string uri) => Task.FromResult(TryResolveByUri(uri));


    public override string ToString() => Name;
}
