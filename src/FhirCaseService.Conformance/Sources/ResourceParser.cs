using System.Text.Json;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Conformance.Sources;

/// <summary>One problem met while parsing a conformance resource (kept, not thrown: bad input never crashes).</summary>
public sealed record ArtifactIssue(string Source, string Location, string Message);

/// <summary>Parses conformance resource JSON with the SDK deserializer in strict mode.</summary>
internal static class ResourceParser
{
    // Strict so that anything the trimming or a package gets wrong is reported, not silently kept in overflow.
    private static readonly FhirJsonDeserializer Deserializer =
        new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

    /// <summary>
    /// The parsed resource and the deserializer's complaints. When the deserializer complains but
    /// still produced a resource, that partial resource is returned with the issues.
    /// </summary>
    public static (Resource? Resource, IReadOnlyList<string> Issues) Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            var ok = Deserializer.TryDeserializeResource(ref reader, out var resource, out var issues);
            return (resource, ok ? [] : issues.Select(i => i.Message).ToList());
        }
        catch (JsonException ex)
        {
            return (null, [$"not valid JSON: {ex.Message}"]);
        }
    }
}
