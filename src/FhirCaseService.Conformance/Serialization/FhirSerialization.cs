using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Conformance.Serialization;

/// <summary>
/// The one FHIR serializer configuration shared by the API, the CLI and the converter, so that the
/// same resource always leaves the service as the same bytes. Serializers are stateless and thread-safe.
/// </summary>
public static class FhirSerialization
{
    private static readonly BaseFhirJsonSerializer JsonSerializer = new(ModelInfo.ModelInspector);
    private static readonly BaseFhirXmlSerializer XmlSerializer = new(ModelInfo.ModelInspector);

    public static string ToJson(Base instance, bool pretty = false) => JsonSerializer.SerializeToString(instance, pretty);

    public static byte[] ToJsonBytes(Base instance, bool pretty = false) => JsonSerializer.SerializeToBytes(instance, pretty);

    public static string ToXml(Base instance, bool pretty = false) => XmlSerializer.SerializeToString(instance, pretty);

    public static byte[] ToXmlBytes(Base instance, bool pretty = false) => XmlSerializer.SerializeToBytes(instance, pretty);

    /// <summary>Strict parsing: unknown elements, wrong JSON types and invalid primitives are errors.</summary>
    public static FhirJsonDeserializer StrictJson { get; } = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

    /// <summary>Strict XML parsing (DTDs and external entities are never processed by the SDK's reader settings).</summary>
    public static FhirXmlDeserializer StrictXml { get; } = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));
}
