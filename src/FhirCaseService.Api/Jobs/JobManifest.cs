using System.Globalization;
using System.Text.Json;

namespace FhirCaseService.Api.Jobs;

/// <summary>
/// A completed job's manifest, shaped as the Bulk Data Access IG 2.0.0 completion manifest: transactionTime, request,
/// requiresAccessToken, then the parts of the job kind (output, error, ...).
/// </summary>
internal static class JobManifest
{
    public static byte[] Write(DateTimeOffset transactionTime, string request, bool requiresAccessToken, Action<Utf8JsonWriter> writeParts)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("transactionTime", FhirInstant(transactionTime));
            json.WriteString("request", request);
            json.WriteBoolean("requiresAccessToken", requiresAccessToken);
            writeParts(json);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>One file of the manifest: its resource type, its URL, and (where the part counts them) its lines.</summary>
    public static void WriteFile(Utf8JsonWriter json, string type, string url, long? count)
    {
        json.WriteStartObject();
        json.WriteString("type", type);
        json.WriteString("url", url);
        if (count is { } lines)
            json.WriteNumber("count", lines);
        json.WriteEndObject();
    }

    /// <summary>A FHIR instant in UTC with milliseconds: the form of the manifest's transactionTime, fit to be sent back as _since.</summary>
    public static string FhirInstant(DateTimeOffset instant) =>
        instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
