using System.Net;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Mapping;

internal static class Narratives
{
    /// <summary>A generated narrative of one paragraph of plain text.</summary>
    public static Narrative Line(string text) => new()
    {
        Status = Narrative.NarrativeStatus.Generated,
        Div = $"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{WebUtility.HtmlEncode(text)}</p></div>",
    };
}
