using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FhirCaseService.Api.Http;

public enum FhirWireFormat { Json, Xml }

/// <summary>
/// The representation a client asked for: `_format` wins over `Accept` (as the FHIR REST spec says), JSON when
/// neither is given. A `_format` or an `Accept` naming only what this server cannot write is a 406
/// (<see cref="TryFrom"/>); error responses themselves fall back to JSON (<see cref="From"/>).
/// </summary>
public sealed record FhirFormat(FhirWireFormat WireFormat, bool Pretty)
{
    public const string JsonContentType = "application/fhir+json";
    public const string XmlContentType = "application/fhir+xml";

    /// <summary>The FHIR version this server speaks, as the media type's <c>fhirVersion</c> parameter names it.</summary>
    public const string FhirVersion = "4.0";

    public string ContentType => WireFormat == FhirWireFormat.Xml ? XmlContentType : JsonContentType;

    /// <summary>The negotiated format, or JSON when the request asks for something unservable (the 406 itself is written so).</summary>
    public static FhirFormat From(HttpRequest request) =>
        TryFrom(request, out var format) ? format : new FhirFormat(FhirWireFormat.Json, IsPretty(request));

    /// <summary>False when `_format` or `Accept` names only representations this server does not write.</summary>
    public static bool TryFrom(HttpRequest request, out FhirFormat format)
    {
        var pretty = IsPretty(request);
        format = new FhirFormat(FhirWireFormat.Json, pretty);
        var formatParameter = request.Query["_format"];
        if (!StringValues.IsNullOrEmpty(formatParameter))
        {
            var wire = ParseFormatParameter(formatParameter.ToString());
            if (wire is null)
                return false;
            format = format with { WireFormat = wire.Value };
            return true;
        }

        var accept = request.Headers.Accept;
        if (StringValues.IsNullOrEmpty(accept))
            return true;
        if (!MediaTypeHeaderValue.TryParseList(accept, out var ranges) || ranges.Count == 0)
            return false;
        foreach (var range in ranges.Where(r => r.Quality is not 0).OrderByDescending(r => r.Quality ?? 1.0))
        {
            if (!SpeaksOurVersion(range))
                continue;
            var mediaType = range.MediaType.Value?.ToLowerInvariant() ?? "";
            if (IsXml(mediaType))
            {
                format = format with { WireFormat = FhirWireFormat.Xml };
                return true;
            }
            if (IsJson(mediaType) || mediaType is "*/*" or "application/*")
                return true;
        }
        return false;
    }

    /// <summary>
    /// The format of a request body from its Content-Type: the FHIR media types and plain <c>application/json</c>,
    /// <c>application/xml</c>; anything else, none, or another FHIR version (<c>fhirVersion</c>) is a 415.
    /// </summary>
    public static ResourceFormat OfBody(HttpRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.ContentType))
            throw UnsupportedBody($"The request has a body but no Content-Type; send it as {JsonContentType} or {XmlContentType}.");
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType))
            throw UnsupportedBody($"The Content-Type cannot be read as a media type; send {JsonContentType} or {XmlContentType}.");
        if (!SpeaksOurVersion(contentType))
            throw UnsupportedBody($"The body is declared as FHIR version {contentType.Parameters.First(IsVersionParameter).Value}; this server speaks FHIR R4 (fhirVersion={FhirVersion}).");
        var mediaType = contentType.MediaType.Value?.ToLowerInvariant() ?? "";
        if (IsJson(mediaType))
            return ResourceFormat.Json;
        if (IsXml(mediaType))
            return ResourceFormat.Xml;
        throw UnsupportedBody($"Content-Type {mediaType} is not FHIR; send {JsonContentType} or {XmlContentType}.");
    }

    /// <summary>
    /// Every spelling of `_format` the FHIR REST spec lists: json, xml, the MIME types, and the FHIR types with their '+'
    /// as it arrives when a client does not encode it (a form-encoded space). Parameters (fhirVersion) are honoured.
    /// </summary>
    private static FhirWireFormat? ParseFormatParameter(string value)
    {
        var text = value.Trim().Replace(' ', '+');
        if (!MediaTypeHeaderValue.TryParse(text, out var mediaType))
            return text.ToLowerInvariant() switch { "json" => FhirWireFormat.Json, "xml" => FhirWireFormat.Xml, _ => null };
        if (!SpeaksOurVersion(mediaType))
            return null;
        var name = mediaType.MediaType.Value?.ToLowerInvariant() ?? "";
        return IsJson(name) ? FhirWireFormat.Json : IsXml(name) ? FhirWireFormat.Xml : null;
    }

    private static bool IsPretty(HttpRequest request) =>
        string.Equals(request.Query["_pretty"], "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>No <c>fhirVersion</c> parameter, or ours: 4.0 (4.0.1, the patch level, reads the same).</summary>
    private static bool SpeaksOurVersion(MediaTypeHeaderValue mediaType) =>
        mediaType.Parameters.FirstOrDefault(IsVersionParameter) is not { } version
        || HeaderUtilities.RemoveQuotes(version.Value).Value is FhirVersion or "4.0.1";

    private static bool IsVersionParameter(NameValueHeaderValue parameter) =>
        parameter.Name.Equals("fhirVersion", StringComparison.OrdinalIgnoreCase);

    private static bool IsXml(string value) =>
        value is "xml" or "text/xml" or "application/xml" or XmlContentType or "application/xml+fhir";

    private static bool IsJson(string value) =>
        value is "json" or "text/json" or "application/json" or JsonContentType or "application/json+fhir";

    private static FhirRequestException UnsupportedBody(string message) =>
        FhirRequestException.Of(StatusCodes.Status415UnsupportedMediaType, OperationOutcome.IssueType.NotSupported, message);

    /// <summary>The 406 of a request whose `_format` or `Accept` this server cannot serve.</summary>
    public static FhirRequestException NotAcceptable() =>
        FhirRequestException.Of(StatusCodes.Status406NotAcceptable, OperationOutcome.IssueType.NotSupported,
            $"This server writes FHIR R4 as {JsonContentType} or {XmlContentType} (_format=json or xml); the request's _format or Accept names neither.");
}
