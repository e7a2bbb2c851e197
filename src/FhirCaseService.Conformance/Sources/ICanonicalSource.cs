using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Source;

namespace FhirCaseService.Conformance.Sources;

/// <summary>
/// A set of conformance resources resolvable by canonical URL, parsed on demand and cached.
/// Resolved resources are shared between callers: never mutate one, DeepCopy it first.
/// </summary>
public interface ICanonicalSource : IAsyncResourceResolver, IResourceResolver
{
    /// <summary>Where the resources come from, for messages ("FHIR R4 core 4.0.1", a package name, a path).</summary>
    string Name { get; }

    /// <summary>Every resource the source holds that has a canonical URL, without parsing any.</summary>
    IReadOnlyList<ArtifactDescriptor> Artifacts { get; }

    /// <summary>The resource for "url" or "url|version", or null when the source does not hold it.</summary>
    Resource? Resolve(string canonical);

    // The SDK's resolver interfaces still require these obsolete members; every source answers them
    // the same way from Resolve and TryResolveByUri, so they are written once here.
    [Obsolete("Use TryResolveByCanonicalUri; kept because the SDK interface requires it.")]
    Resource? IResourceResolver.ResolveByCanonicalUri(string uri) => Resolve(uri);

    [Obsolete("Use TryResolveByUri; kept because the SDK interface requires it.")]
    Resource? IResourceResolver.ResolveByUri(string uri) => TryResolveByUri(uri).Value;

    [Obsolete("Use TryResolveByCanonicalUriAsync; kept because the SDK interface requires it.")]
    Task<Resource?> IAsyncResourceResolver.ResolveByCanonicalUriAsync(string uri) => System.Threading.Tasks.Task.FromResult(Resolve(uri));

    [Obsolete("Use TryResolveByUriAsync; kept because the SDK interface requires it.")]
    Task<Resource?> IAsyncResourceResolver.ResolveByUriAsync(string uri) => System.Threading.Tasks.Task.FromResult<Resource?>(TryResolveByUri(uri).Value);
}
