using System.Collections.Frozen;
using System.Text;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// FHIR string search is case- and accent-insensitive: both the indexed value and the searched value go through
/// this one function. The service runs with InvariantGlobalization, where string.Normalize cannot decompose
/// accented letters, so the Latin letters with diacritics (Latin-1 Supplement and Latin Extended-A, which cover the
/// names of the European case series) are folded by an explicit table.
/// </summary>
internal static class TextNormalizer
{
    private static readonly FrozenDictionary<char, string> Folds = BuildFolds();

    public static string Normalize(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value.Trim())
        {
            var lower = char.ToLowerInvariant(c);
            if (Folds.TryGetValue(lower, out var folded))
                builder.Append(folded);
            else
                builder.Append(lower);
        }
        return builder.ToString();
    }

    private static FrozenDictionary<char, string> BuildFolds()
    {
        (string Letters, string Base)[] groups =
        [
            ("àáâãäåāăą", "a"), ("çćĉċč", "c"), ("ďđ", "d"), ("èéêëēĕėęě", "e"), ("ĝğġģ", "g"), ("ĥħ", "h"),
            ("ìíîïĩīĭįı", "i"), ("ĵ", "j"), ("ķ", "k"), ("ĺļľŀł", "l"), ("ñńņňŉ", "n"), ("òóôõöøōŏő", "o"),
            ("ŕŗř", "r"), ("śŝşš", "s"), ("ţťŧ", "t"), ("ùúûüũūŭůűų", "u"), ("ŵ", "w"), ("ýÿŷ", "y"), ("źżž", "z"),
            ("æ", "ae"), ("œ", "oe"), ("ß", "ss"), ("þ", "th"), ("ð", "d"),
        ];
        return groups.SelectMany(g => g.Letters.Select(c => (c, g.Base))).ToFrozenDictionary(p => p.c, p => p.Base);
    }
}
