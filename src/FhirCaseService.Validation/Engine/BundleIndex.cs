using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>The resources of a Bundle by fullUrl and by Type/id, to resolve references between entries.</summary>
internal sealed class BundleIndex
{
    private readonly Dictionary<string, PocoNode> _byReference = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _fullUrlCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PocoNode>> _byId = new(StringComparer.Ordinal);

    public BundleIndex(PocoNode bundle)
    {
        if (bundle.Child("entry") is not { } entries)
            return;
        foreach (var entry in entries)
        {
            // Null entries and wrong-shaped parts (a partial parse result) are skipped; the parser has reported them.
            if (entry.Poco is null || entry.Child("resource")?.FirstOrDefault() is not { Poco: Resource resource } resourceNode)
                continue;
            var fullUrl = RawElements.Text(entry.Poco, "fullUrl");
            if (fullUrl is not null)
            {
                Add(fullUrl, resourceNode);
                _fullUrlCounts[fullUrl] = _fullUrlCounts.GetValueOrDefault(fullUrl) + 1;
            }
            // An entry without a resource id is known by the uuid of its urn:uuid fullUrl, as the reference validator knows it.
            if (RawElements.Text(resource, "id") is null && fullUrl?.StartsWith(UuidPrefix, StringComparison.Ordinal) == true && fullUrl.Length > UuidPrefix.Length)
            {
                var key = fullUrl[UuidPrefix.Length..];
                if (!_byId.TryGetValue(key, out var sameId))
                    _byId[key] = sameId = [];
                sameId.Add(resourceNode);
            }
            if (RawElements.Text(resource, "id") is { } id)
            {
                var relative = $"{resource.TypeName}/{id}";
                // An entry whose fullUrl is its own Type/id is one match, not two.
                if (relative != fullUrl)
                    Add(relative, resourceNode);
            }
        }
    }

    private const string UuidPrefix = "urn:uuid:";

    /// <summary>
    /// The one entry a relative reference (Type/uuid) that resolves to nothing meets by the uuid of its urn:uuid fullUrl
    /// (the entry's resource has no id), when that entry is of another type: the reference means that entry but names
    /// the wrong type.
    /// </summary>
    public PocoNode? OtherTypeWithId(string reference)
    {
        var segments = reference.Split('/');
        if (segments.Length != 2 || !ResourceTypeNames.IsResourceType(segments[0]) || !_byId.TryGetValue(segments[1], out var sameId) || sameId.Count != 1)
            return null;
        return sameId[0].Poco.TypeName == segments[0] ? null : sameId[0];
    }

    private void Add(string key, PocoNode resource)
    {
        _byReference.TryAdd(key, resource);
    }

    /// <summary>
    /// How many entries share the fullUrl a reference means (more than one: the reference is ambiguous). A relative
    /// reference means a fullUrl only against the referring entry's RESTful fullUrl (bundle.html#references).
    /// </summary>
    public int CountFullUrlMatches(string reference, PocoNode referringResource)
    {
        var root = Schema.ElementVisit.RootOf(referringResource);
        var fullUrl = root.Parent?.Poco is Bundle.EntryComponent entry ? RawElements.Text(entry, "fullUrl") : null;
        var meant = BundleRules.AbsoluteReference(reference, fullUrl, root.Poco.TypeName, RawElements.Text(root.Poco, "id"));
        return meant is null ? 0 : _fullUrlCounts.GetValueOrDefault(meant);
    }

    public PocoNode? Resolve(string reference)
    {
        if (_byReference.TryGetValue(reference, out var node))
            return node;
        // "Patient/1/_history/2" resolves to the entry of Patient/1.
        var history = reference.IndexOf("/_history/", StringComparison.Ordinal);
        return history > 0 ? _byReference.GetValueOrDefault(reference[..history]) : null;
    }
}
