using System.Globalization;
using System.Text;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// FHIR string search is case- and accent-insensitive: both the indexed value and the searched value go through
/// this one function (lowercase invariant, combining marks removed after canonical decomposition).
/// </summary>
internal static class TextNormalizer
{
    public static string Normalize(string value)
    {
        var decomposed = value.Trim().Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
                builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString().Normalize(NormalizationForm.FormC);
    }
}
