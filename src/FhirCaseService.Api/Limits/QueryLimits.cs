using System.Globalization;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Search;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// How many parameters a request may carry and how large a page it may ask for. The refusal names counts and
/// settings, never a parameter's value: search values (an identifier, a birth date) are patient data.
/// </summary>
public static class QueryLimits
{
    private const string MaxPageSizeSetting = "Storage:MaxPageSize";

    /// <summary>Throws a 400 when the parameters exceed <paramref name="maxParameters"/> or <c>_count</c> exceeds <paramref name="maxPageSize"/>.</summary>
    public static void Check(IReadOnlyList<KeyValuePair<string, string>> parameters, int maxParameters, int maxPageSize)
    {
        // The page cursor is the server's own addition to its next/previous links: a client's search of exactly the
        // maximum must still be able to follow them.
        var count = parameters.Count(p => p.Key != SearchBundleBuilder.CursorParameter);
        if (count > maxParameters)
            throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.TooCostly,
                $"The request has {count} parameters; this server accepts at most {maxParameters} " +
                $"({LimitsOptions.Section}:{nameof(LimitsOptions.MaxSearchParameters)}).");

        // A _count that is not a whole number is left to the search, history or $everything that reads it, which word that error.
        foreach (var (name, text) in parameters)
            if (name == "_count" && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pageSize) && pageSize > maxPageSize)
                throw FhirRequestException.BadRequest(
                    $"_count={pageSize} asks for more than the {maxPageSize} results a page of this server holds ({MaxPageSizeSetting}); " +
                    $"ask for at most {maxPageSize} and follow the Bundle's next link.", "_count");
    }
}
