using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// A set of FHIR resources with reference resolution, whether they came from a transaction Bundle
/// (references are urn:uuid fullUrls) or from a server export (references are Type/id).
/// </summary>
public sealed class ResourceSet
{
    private readonly Dictionary<string, Resource> _byKey = new(StringComparer.Ordinal);
    private readonly List<Resource> _resources = [];

    public IReadOnlyList<Resource> Resources => _resources;

    /// <summary>Adds a resource, reachable by Type/id and, when given, by the fullUrl that stood for it in a Bundle.</summary>
    public void Add(Resource resource, string? fullUrl = null)
    {
        _resources.Add(resource);
        if (resource.Id is { Length: > 0 } id)
            _byKey.TryAdd($"{resource.TypeName}/{id}", resource);
        if (fullUrl is { Length: > 0 })
            _byKey.TryAdd(fullUrl, resource);
    }

    /// <summary>Adds the resources of a Bundle (of any type), recursing into nothing else.</summary>
    public void AddBundle(Bundle bundle)
    {
        foreach (var entry in bundle.Entry)
            if (entry.Resource is Resource resource)
                Add(resource, entry.FullUrl);
    }

    public static ResourceSet FromBundle(Bundle bundle)
    {
        var set = new ResourceSet();
        set.AddBundle(bundle);
        return set;
    }

    public IEnumerable<T> OfType<T>() where T : Resource => _resources.OfType<T>();

    /// <summary>The resource a reference points to: by fullUrl, by Type/id, or by the Type/id tail of an absolute URL.</summary>
    public Resource? Resolve(ResourceReference? reference)
    {
        var target = reference?.Reference;
        if (string.IsNullOrEmpty(target))
            return null;
        if (_byKey.TryGetValue(target, out var resource))
            return resource;
        return TypeIdTail(target) is { } tail && _byKey.TryGetValue(tail, out resource) ? resource : null;
    }

    /// <summary>The last two segments of a reference as "Type/id" (an absolute URL's tail), or null when it has fewer.</summary>
    internal static string? TypeIdTail(string reference)
    {
        var parts = reference.Split('/');
        return parts.Length >= 2 ? $"{parts[^2]}/{parts[^1]}" : null;
    }
}
