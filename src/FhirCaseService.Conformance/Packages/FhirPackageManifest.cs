using System.Text.Json;

namespace FhirCaseService.Conformance.Packages;

/// <summary>The fields of an npm FHIR package.json that resolution and messages use.</summary>
public sealed record FhirPackageManifest(
    string Name,
    string? Version,
    string? Canonical,
    IReadOnlyList<string> FhirVersions,
    IReadOnlyDictionary<string, string> Dependencies)
{
    public string Display => Version is null ? Name : $"{Name}#{Version}";

    /// <summary>Reads package.json; throws <see cref="FhirPackageException"/> when it is not usable.</summary>
    public static FhirPackageManifest Parse(ReadOnlySpan<byte> json, string origin)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                throw new FhirPackageException($"{origin}: package.json has no \"name\"");
            }
            return new FhirPackageManifest(
                name.GetString()!,
                StringOrNull(root, "version"),
                StringOrNull(root, "canonical"),
                root.TryGetProperty("fhirVersions", out var versions) && versions.ValueKind == JsonValueKind.Array
                    ? versions.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
                    : [],
                root.TryGetProperty("dependencies", out var dependencies) && dependencies.ValueKind == JsonValueKind.Object
                    ? dependencies.EnumerateObject().ToDictionary(d => d.Name, d => d.Value.ToString(), StringComparer.Ordinal)
                    : new Dictionary<string, string>());
        }
        catch (JsonException ex)
        {
            throw new FhirPackageException($"{origin}: package.json is not valid JSON ({ex.Message})", ex);
        }
    }

    private static string? StringOrNull(JsonElement root, string property) =>
        root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
