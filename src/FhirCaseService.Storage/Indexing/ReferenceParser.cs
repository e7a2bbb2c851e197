using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Indexing;

/// <summary>Splits a reference literal into a local target ("Type/id", also at the end of an absolute URL or before "/_history/n").</summary>
internal static class ReferenceParser
{
    public static (string? Type, string? Id) Split(string reference)
    {
        if (reference.StartsWith('#') || reference.StartsWith("urn:", StringComparison.Ordinal))
            return (null, null);
        var segments = reference.Split('/');
        var history = Array.IndexOf(segments, "_history");
        var end = history > 0 ? history : segments.Length;
        if (end >= 2 && ModelInfo.IsKnownResource(segments[end - 2]) && ResourceIds.IsValid(segments[end - 1]))
            return (segments[end - 2], segments[end - 1]);
        return (null, null);
    }
}

internal static class ResourceIds
{
    /// <summary>FHIR id: [A-Za-z0-9\-\.]{1,64}.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.');
}
