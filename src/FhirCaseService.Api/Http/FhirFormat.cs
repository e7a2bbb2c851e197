using Microsoft.Extensions.Primitives;

namespace FhirCaseService.Api.Http;

public enum FhirWireFormat { Json, Xml }

/// <summary>
/// The representation a client asked for: `_format` wins over `Accept` (as the FHIR REST spec says),
/// JSON when neither names something we serve.
/// </summary>
public sealed record FhirFormat(FhirWireFormat WireFormat, bool Pretty)
{
    public const string JsonContentType = "application/fhir+json";
    public const string XmlContentType = "application/fhir+xml";

    public string ContentType => WireFormat == FhirWireFormat.Xml ? XmlContentType : JsonContentType;

    public static FhirFormat From(HttpRequest request)
    {
        var pretty = string.Equals(request.Query["_pretty"], "true", StringComparison.OrdinalIgnoreCase);
        var format = request.Query["_format"];
        if (!StringValues.IsNullOrEmpty(format))
            return new FhirFormat(IsXml(format.ToString()) ? FhirWireFormat.Xml : FhirWireFormat.Json, pretty);

        foreach (var accept in request.GetTypedHeaders().Accept.OrderByDescending(a => a.Quality ?? 1.0))
        {
            var mediaType = accept.MediaType.Value ?? "";
            if (IsXml(mediaType)) return new FhirFormat(FhirWireFormat.Xml, pretty);
            if (IsJson(mediaType) || mediaType == "*/*") return new FhirFormat(FhirWireFormat.Json, pretty);
        }
        return new FhirFormat(FhirWireFormat.Json, pretty);
    }

    private static bool IsXml(string value) =>
        value is "xml" or "text/xml" or "application/xml" or XmlContentType;

    private static bool IsJson(string value) =>
        value is "json" or "application/json" or JsonContentType;
}
