using FhirCaseService.Validation.Instance;
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
            // Null entries and wrong-shaped parts (a partial parse result) are skipped; the parser has reported them.
            if (entry.Poco is null || entry.Child("resource")?.FirstOrDefault() is not { Poco: Resource resource } resourceNode)
                continue;
            if (RawElements.Text(entry.Poco, "fullUrl") is { } fullUrl)
                _byReference.TryAdd(fullUrl, resourceNode);
            if (RawElements.Text(resource, "id") is { } id)
            {
                var relative = $"{resource.TypeName}/{id}";
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
