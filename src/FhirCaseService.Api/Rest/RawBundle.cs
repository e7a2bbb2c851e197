using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// A received Bundle read without the SDK's typed getters. The parser keeps wrong-shaped values as it found them (an
/// object where the entry array belongs, a string as the type, an array as a fullUrl) so the validator can name them;
/// the typed getters throw on those. What the write path reads before the verdict is read here, through the
/// validator's own raw reader (<see cref="RawElements"/>).
/// </summary>
internal static class RawBundle
{
    /// <summary>Bundle.type as sent, or null when absent or not a single code.</summary>
    public static string? TypeCode(Bundle bundle) => RawElements.Text(bundle, "type");

    /// <summary>True when Bundle.entry is absent or a list of entry objects (no nulls, no single object in its place).</summary>
    public static bool HasWellFormedEntries(Bundle bundle) => RawElements.IsAbsentOrWellFormedList<Bundle.EntryComponent>(bundle, "entry");

    /// <summary>The entries when <see cref="HasWellFormedEntries"/>; otherwise none.</summary>
    public static IEnumerable<Bundle.EntryComponent> Entries(Bundle bundle) =>
        HasWellFormedEntries(bundle) ? RawElements.Many<Bundle.EntryComponent>(bundle, "entry") : [];

    /// <summary>An entry's fullUrl as sent, or null when absent, blank or not a single uri.</summary>
    public static string? FullUrl(Bundle.EntryComponent entry) =>
        RawElements.Text(entry, "fullUrl") is { } url && !string.IsNullOrWhiteSpace(url) ? url : null;
}
