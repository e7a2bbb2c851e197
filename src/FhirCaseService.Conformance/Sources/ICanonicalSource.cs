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
}
