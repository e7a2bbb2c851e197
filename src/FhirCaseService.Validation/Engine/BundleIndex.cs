using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>The resources of a Bundle by fullUrl and by Type/id, to resolve references between entries.</summary>
internal sealed class BundleIndex
{
    private readonly Dictionary<string, PocoNode> _byReference = new(StringComparer.Ordinal);

    public BundleIndex(PocoNode bundle)
    {
        if (bundle.Child("entry") is not { } entries)
            return;
        foreach (var entry in entries)
        {
            if (entry.Child("resource")?.FirstOrDefault() is not { } resourceNode || resourceNode.Poco is not Resource resource)
                continue;
            var fullUrl = (entry.Poco as Bundle.EntryComponent)?.FullUrl;
            if (fullUrl is not null)
                _byReference.TryAdd(fullUrl, resourceNode);
            if (resource.Id is not null)
            {
                var relative = $"{resource.TypeName}/{resource.Id}";
                _byReference.TryAdd(relative, resourceNode);
            }
        }
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
