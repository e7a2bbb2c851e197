using System.Text.Json;
using System.Xml;
using Hl7.Fhir.Model;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Conformance.Sources;

/// <summary>One problem met while parsing a conformance resource (kept, not thrown: bad input never crashes).</summary>
public sealed record ArtifactIssue(string Source, string Location, string Message);

/// <summary>Parses conformance resources (JSON, or XML for locations ending in .xml) with the SDK deserializers in strict mode.</summary>
internal static class ResourceParser
{
    // Strict so that anything the trimming or a package gets wrong is reported, not silently kept in overflow.
    private static readonly FhirJsonDeserializer JsonDeserializer = FhirSerialization.StrictJson;
    private static readonly FhirXmlDeserializer XmlDeserializer = FhirSerialization.StrictXml;

    // FHIR XML has no DTDs; refusing them keeps a hostile file from expanding entities.
    private static readonly XmlReaderSettings SafeXml = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };

    public static bool IsXml(string location) => location.EndsWith(".xml", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The parsed resource and the deserializer's complaints. When the deserializer complains but
    /// still produced a resource, that partial resource is returned with the issues.
    /// </summary>
    public static (Resource? Resource, IReadOnlyList<string> Issues) Parse(string location, byte[] content)
    {
        try
        {
            Resource? resource;
            IEnumerable<Hl7.Fhir.Utility.CodedException>? issues;
            bool ok;
            if (IsXml(location))
            {
                using var reader = XmlReader.Create(new MemoryStream(content), SafeXml);
                ok = XmlDeserializer.TryDeserializeResource(reader, out resource, out issues);
            }
            else
            {
                var reader = new Utf8JsonReader(content);
                ok = JsonDeserializer.TryDeserializeResource(ref reader, out resource, out issues);
            }
            return (resource, ok ? [] : (issues ?? []).Select(i => i.Message).ToList());
        }
        catch (Exception ex) when (ex is JsonException or XmlException)
        {
            return (null, [$"not well-formed {(IsXml(location) ? "XML" : "JSON")}: {ex.Message}"]);
        }
    }
}
