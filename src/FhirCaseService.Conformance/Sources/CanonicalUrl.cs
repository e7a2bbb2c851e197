namespace FhirCaseService.Conformance.Sources;

/// <summary>Splits a canonical reference "url|version#fragment" into the parts resolution uses.</summary>
internal static class CanonicalUrl
{
    public static (string Url, string? Version) Split(string canonical)
    {
        var withoutFragment = canonical.Split('#')[0];
        var bar = withoutFragment.IndexOf('|');
        return bar < 0
            ? (withoutFragment, null)
            : (withoutFragment[..bar], withoutFragment[(bar + 1)..] is { Length: > 0 } version ? version : null);
    }
}
