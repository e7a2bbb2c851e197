using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// A received Bundle read without the SDK's typed getters. The parser keeps wrong-shaped values as it found them (an
/// object where the entry array belongs, a string as the type, an array as a fullUrl) so the validator can name them;
/// the typed getters throw on those. What the write path reads before the verdict is read here.
/// </summary>
internal static class RawBundle
{
    /// <summary>Bundle.type as sent, or null when absent or not a single code.</summary>
    public static string? TypeCode(Bundle bundle) =>
        bundle.TryGetValue("type", out var value) && value is PrimitiveType primitive ? primitive.JsonValue as string : null;

    /// <summary>True when Bundle.entry is absent or a list of entry objects (no nulls, no single object in its place).</summary>
    public static bool HasWellFormedEntries(Bundle bundle) =>
        !bundle.TryGetValue("entry", out var value) || value is null
        || value is IEnumerable<Bundle.EntryComponent> entries && entries.All(e => e is not null);

    /// <summary>The entries when <see cref="HasWellFormedEntries"/>; otherwise none.</summary>
    public static IEnumerable<Bundle.EntryComponent> Entries(Bundle bundle) =>
        bundle.TryGetValue("entry", out var value) && value is IEnumerable<Bundle.EntryComponent> entries ? entries.Where(e => e is not null) : [];

    /// <summary>An entry's fullUrl as sent, or null when absent, blank or not a single uri.</summary>
    public static string? FullUrl(Bundle.EntryComponent entry) =>
        entry.TryGetValue("fullUrl", out var value) && value is PrimitiveType { JsonValue: string url } && !string.IsNullOrWhiteSpace(url) ? url : null;
}
