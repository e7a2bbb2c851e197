using Hl7.Fhir.Model;

namespace FhirCaseService.Validation;

/// <summary>
/// Fetches the resource a reference names when it is neither contained nor in the Bundle being validated (the seam the
/// HL7 reference validator calls its fetcher): the server's store, a folder of files, a test case's supporting
/// resources. The engine asks only for references it must judge against a target profile that is not core (see
/// docs/validation.md, "References resolved outside the instance"); a miss (null) is no finding, since a reference to
/// something the resolver cannot see may still be valid. Implementations must be safe to call from several threads.
/// </summary>
public interface IReferenceResolver
{
    /// <param name="reference">The reference as written: "Patient/1", "Patient/1/_history/2" or an absolute URL.</param>
    ValueTask<Resource?> ResolveAsync(string reference, CancellationToken cancellationToken = default);
}

/// <summary>The parts of a literal reference that name a resource: type, id and version (if any).</summary>
public readonly record struct ResourceAddress(string Type, string Id, string? Version)
{
    /// <summary>
    /// "Patient/1", "Patient/1/_history/2", "http://server/fhir/Patient/1[/_history/2]"; null for "#id", urn: identities,
    /// searches ("Patient?x=y") and anything whose type segment is not a resource type.
    /// </summary>
    public static ResourceAddress? Parse(string reference)
    {
        if (string.IsNullOrEmpty(reference) || reference[0] == '#' || reference.Contains('?', StringComparison.Ordinal)
            || reference.StartsWith("urn:", StringComparison.Ordinal))
            return null;
        var segments = reference.Split('/');
        string? version = null;
        var end = segments.Length;
        if (end >= 4 && segments[end - 2] == "_history")
        {
            version = segments[end - 1];
            end -= 2;
        }
        if (end < 2 || segments[end - 1].Length == 0 || !Schema.ResourceTypeNames.IsResourceType(segments[end - 2]))
            return null;
        return new ResourceAddress(segments[end - 2], segments[end - 1], version);
    }

    public override string ToString() => $"{Type}/{Id}";
}

/// <summary>A resolver over a fixed set of resources, found by type and id (a version in the reference must match meta.versionId when both are given).</summary>
public sealed class InMemoryReferenceResolver : IReferenceResolver
{
    private readonly Dictionary<string, Resource> _byAddress = new(StringComparer.Ordinal);

    public InMemoryReferenceResolver(IEnumerable<Resource> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        foreach (var resource in resources)
        {
            if (!string.IsNullOrEmpty(resource.Id))
                _byAddress.TryAdd($"{resource.TypeName}/{resource.Id}", resource);
        }
    }

    public int Count => _byAddress.Count;

    public ValueTask<Resource?> ResolveAsync(string reference, CancellationToken cancellationToken = default)
    {
        if (ResourceAddress.Parse(reference) is not { } address || !_byAddress.TryGetValue(address.ToString(), out var resource))
            return ValueTask.FromResult<Resource?>(null);
        if (address.Version is { } version && resource.Meta?.VersionId is { } stored && stored != version)
            return ValueTask.FromResult<Resource?>(null);
        return ValueTask.FromResult<Resource?>(resource);
    }
}
