using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Conformance.Serialization;

/// <summary>
/// The one FHIR serializer configuration shared by the API, the CLI, the converter and the store, so that the
/// same resource always leaves the service as the same bytes. Serializers are stateless and thread-safe.
/// JSON is written as FHIR servers write it: characters escaped only where JSON requires it (System.Text.Json's
/// default encoder also escapes '+', '&lt;', '&amp;', quotes and non-ASCII letters, which is valid but trips clients that
/// compare strings and canonical JSON used for signatures), and every instant in UTC with "Z" (a DateTimeOffset
/// would otherwise write "+00:00").
/// </summary>
public static class FhirSerialization
{
    private static readonly BaseFhirJsonSerializer JsonSerializer = new UtcInstantJsonSerializer(ModelInfo.ModelInspector);
    private static readonly BaseFhirXmlSerializer XmlSerializer = new(ModelInfo.ModelInspector);

    /// <summary>
    /// The JSON writer's encoder: JSON itself (quotes, backslash, control characters) and nothing more. The relaxed
    /// encoder's only "unsafety" is for JSON pasted into HTML, which FHIR responses (application/fhir+json, nosniff) are not.
    /// </summary>
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Indented = Compact with { Indented = true };

    public static string ToJson(Base instance, bool pretty = false) => Encoding.UTF8.GetString(ToJsonBytes(instance, pretty));

    public static byte[] ToJsonBytes(Base instance, bool pretty = false)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, pretty ? Indented : Compact))
            JsonSerializer.Serialize(instance, writer);
        return buffer.WrittenSpan.ToArray();
    }

    public static string ToXml(Base instance, bool pretty = false) => XmlSerializer.SerializeToString(instance, pretty);

    public static byte[] ToXmlBytes(Base instance, bool pretty = false) => XmlSerializer.SerializeToBytes(instance, pretty);

    /// <summary>An instant as this service writes it: UTC, "Z", the fraction without trailing zeros.</summary>
    public static string FormatInstant(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>Strict parsing: unknown elements, wrong JSON types and invalid primitives are errors.</summary>
    public static FhirJsonDeserializer StrictJson { get; } = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

    /// <summary>
    /// Tolerant parsing, for JSON this service wrote itself from a POCO (stored versions): elements a later SDK may drop
    /// are kept aside instead of failing the read.
    /// </summary>
    public static FhirJsonDeserializer TolerantJson { get; } = new(new DeserializerSettings().UsingMode(DeserializationMode.Ostrich));

    /// <summary>Strict XML parsing (DTDs and external entities are never processed by the SDK's reader settings).</summary>
    public static FhirXmlDeserializer StrictXml { get; } = new(new DeserializerSettings().UsingMode(DeserializationMode.Strict));

    /// <summary>
    /// The SDK's serializer with instants in UTC with "Z": those set from a DateTimeOffset (meta.lastUpdated stamped by
    /// the store) and those read from text with an offset (a stored "+00:00" from before this writer).
    /// </summary>
    private sealed class UtcInstantJsonSerializer(ModelInspector inspector) : BaseFhirJsonSerializer(inspector)
    {
        protected override void SerializePrimitiveValue(PrimitiveType value, Utf8JsonWriter writer)
        {
            if (value is Instant { JsonValue: var raw } && AsInstant(raw) is { } instant)
                writer.WriteStringValue(FormatInstant(instant));
            else
                base.SerializePrimitiveValue(value, writer);
        }

        /// <summary>The instant a value holds, when it is one with a time zone; anything else is written as it is.</summary>
        private static DateTimeOffset? AsInstant(object? raw) => raw switch
        {
            DateTimeOffset instant => instant,
            string text when text.Contains('T') && (text.EndsWith('Z') || text.Length > 6 && text[^6] is '+' or '-' && text[^3] == ':')
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) => parsed,
            _ => null,
        };
    }
}
