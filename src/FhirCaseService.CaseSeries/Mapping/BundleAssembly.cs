using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>A resource the converter made, with its stable key and whether any fact in it is illustrative.</summary>
internal sealed record GeneratedResource(ResourceKey Key, Resource Resource, bool Illustrative, string Description);

/// <summary>How generated resources point at each other.</summary>
internal enum ReferenceStyle
{
    /// <summary>The urn:uuid fullUrl: for a transaction Bundle, whose server rewrites it to the stored id.</summary>
    FullUrl,

    /// <summary><c>Type/id</c>: for resources written on their own (NDJSON), where no Bundle resolves a urn:uuid.</summary>
    Literal,
}

/// <summary>
/// Collects the generated resources in a fixed order and turns them into one transaction Bundle:
/// fullUrl = urn:uuid of the key, request = PUT Type/id, meta.profile and the reported/illustrative tag set
/// (synthetic for a generated cohort).
/// </summary>
internal sealed class BundleAssembly(bool synthetic = false, ReferenceStyle references = ReferenceStyle.FullUrl)
{
    private readonly List<GeneratedResource> _resources = [];
    private readonly HashSet<string> _fullUrls = new(StringComparer.Ordinal);

    public IReadOnlyList<GeneratedResource> Resources => _resources;

    public bool Synthetic => synthetic;

    public ResourceReference Reference(ResourceKey key) => new(references == ReferenceStyle.FullUrl ? key.FullUrl : key.RequestUrl);

    public void Add(ResourceKey key, Resource resource, string? profile, bool illustrative, string description)
    {
        if (!_fullUrls.Add(key.FullUrl))
            throw new InvalidOperationException($"Two generated resources share the key {key.RequestUrl}; the input checks should have rejected this record.");
        resource.Id = key.Id;
        resource.Meta = new Meta();
        if (profile is not null)
            resource.Meta.Profile = [profile];
        resource.Meta.Tag = [synthetic ? Codes.Synthetic : Codes.DataProvenance(illustrative)];
        _resources.Add(new GeneratedResource(key, resource, illustrative, description));
    }

    public Bundle ToTransaction() => new()
    {
        Type = Bundle.BundleType.Transaction,
        Entry = _resources.Select(r => new Bundle.EntryComponent
        {
            FullUrl = r.Key.FullUrl,
            Resource = r.Resource,
            Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = r.Key.RequestUrl },
        }).ToList(),
    };
}
