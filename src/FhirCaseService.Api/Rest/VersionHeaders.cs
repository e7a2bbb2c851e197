using System.Globalization;
using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using Microsoft.Extensions.Primitives;

namespace FhirCaseService.Api.Rest;

/// <summary>Version-aware HTTP headers: weak ETags <c>W/"n"</c> (n = meta.versionId), Last-Modified, Location.</summary>
public static class VersionHeaders
{
    public static string ETag(int versionId) => $"W/\"{versionId.ToString(CultureInfo.InvariantCulture)}\"";

    public static string LastModified(DateTimeOffset lastUpdated) => lastUpdated.UtcDateTime.ToString("R", CultureInfo.InvariantCulture);

    public static string Location(string baseUrl, StoredResource stored) => $"{baseUrl}/{stored.VersionedReference}";

    /// <summary>The version an If-Match header asks for; null when absent. A value that is not an ETag of ours is a 400.</summary>
    public static int? IfMatch(StringValues header, string expression = "If-Match") =>
        header.Count == 0 || string.IsNullOrWhiteSpace(header.ToString()) ? null : ParseETag(header.ToString(), expression);

    /// <summary>Accepts <c>W/"3"</c>, <c>"3"</c> (FHIR servers see both in the wild) and the bare number.</summary>
    public static int ParseETag(string value, string expression)
    {
        var text = value.Trim();
        if (text.StartsWith("W/", StringComparison.Ordinal))
            text = text[2..];
        text = text.Trim('"');
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
            return version;
        throw FhirRequestException.BadRequest($"{expression} must be a version ETag such as W/\"3\"; got {value}.", expression);
    }

    public static void Write(HttpResponse response, StoredResource stored)
    {
        response.Headers.ETag = ETag(stored.VersionId);
        response.Headers.LastModified = LastModified(stored.LastUpdated);
    }
}
