using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using FhirCaseService.CaseSeries.Mapping;

namespace FhirCaseService.CaseSeries.Synthetic;

/// <summary>
/// The cohort's Group (members = its patients, as the converter makes for a series), written straight to a stream:
/// its member list grows with the cohort, so it is produced from the patient indexes as it is written instead of
/// being built as one object. Members are literal <c>Patient/{id}</c> references (the patients are in other files).
/// </summary>
internal static class CohortGroupJson
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true, NewLine = "\n" };

    /// <summary>The Group alone, on one line (for Group.ndjson), followed by a newline.</summary>
    public static async Task WriteNdjsonLineAsync(SyntheticCohort cohort, Stream output, CancellationToken cancellationToken)
    {
        await using (var json = new Utf8JsonWriter(output, Compact))
            await WriteGroupAsync(json, cohort, cancellationToken);
        output.WriteByte((byte)'\n');
    }

    /// <summary>A transaction Bundle of one entry, PUT Group/{id}, indented like the patient Bundles.</summary>
    public static async Task WriteTransactionAsync(SyntheticCohort cohort, Stream output, CancellationToken cancellationToken)
    {
        var key = cohort.GroupKey;
        await using (var json = new Utf8JsonWriter(output, Indented))
        {
            json.WriteStartObject();
            json.WriteString("resourceType", "Bundle");
            json.WriteString("type", "transaction");
            json.WriteStartArray("entry");
            json.WriteStartObject();
            json.WriteString("fullUrl", key.FullUrl);
            json.WritePropertyName("resource");
            await WriteGroupAsync(json, cohort, cancellationToken);
            json.WriteStartObject("request");
            json.WriteString("method", "PUT");
            json.WriteString("url", key.RequestUrl);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
    }

    private static async Task WriteGroupAsync(Utf8JsonWriter json, SyntheticCohort cohort, CancellationToken cancellationToken)
    {
        var series = cohort.Series;
        var patients = cohort.Patients.ToString(CultureInfo.InvariantCulture);
        json.WriteStartObject();
        json.WriteString("resourceType", "Group");
        json.WriteString("id", cohort.GroupKey.Id);
        json.WriteStartObject("meta");
        json.WriteStartArray("tag");
        json.WriteStartObject();
        json.WriteString("system", FhirCaseCanonicals.CodeSystems.DataProvenance);
        json.WriteString("code", "synthetic");
        json.WriteString("display", "Synthetic");
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartObject("text");
        json.WriteString("status", "generated");
        json.WriteString("div", $"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{WebUtility.HtmlEncode($"Case series {series.SeriesId}: {series.Title} ({patients} patients). Source: {series.Citation}")}</p></div>");
        json.WriteEndObject();
        json.WriteStartArray("identifier");
        json.WriteStartObject();
        json.WriteString("system", FhirCaseCanonicals.CaseSeriesSystem);
        json.WriteString("value", series.SeriesId);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteBoolean("active", true);
        json.WriteString("type", "person");
        json.WriteBoolean("actual", true);
        json.WriteString("name", series.Title);
        json.WriteNumber("quantity", cohort.Patients);
        json.WriteStartArray("member");
        for (var index = 1; index <= cohort.Patients; index++)
        {
            json.WriteStartObject();
            json.WriteStartObject("entity");
            json.WriteString("reference", cohort.PatientKey(index).RequestUrl);
            json.WriteEndObject();
            json.WriteEndObject();
            if (json.BytesPending > 1 << 16)
                await json.FlushAsync(cancellationToken);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
