using System.Net;
using System.Text;

namespace FhirCaseService.Api.App;

/// <summary>
/// The frame every page shares: the document head with the service's own stylesheet and scripts (no inline script or
/// style, which the pages' CSP forbids), the navigation, and HTML encoding of every value that comes from data.
/// </summary>
internal static class PageLayout
{
    public const string ContentType = "text/html; charset=utf-8";

    public static string Document(string title, string main, params string[] scripts)
    {
        var html = new StringBuilder();
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(title)).Append(" · FhirCaseService</title>\n")
            .Append("<link rel=\"stylesheet\" href=\"").Append(AppEndpoints.AssetPath("app.css")).Append("\">\n")
            // An icon of our own: otherwise the browser asks for /favicon.ico, which the service does not serve.
            .Append("<link rel=\"icon\" href=\"").Append(AppEndpoints.AssetPath("icon.svg")).Append("\" type=\"image/svg+xml\">\n");
        foreach (var script in scripts)
            html.Append("<script src=\"").Append(AppEndpoints.AssetPath(script)).Append("\" defer></script>\n");
        html.Append("</head>\n<body>\n<a class=\"skip-link\" href=\"#main\">Skip to content</a>\n")
            .Append("<header class=\"site\"><nav aria-label=\"Pages\"><a class=\"brand\" href=\"").Append(AppEndpoints.CohortPath).Append("\">FhirCaseService</a>")
            .Append("<a href=\"").Append(AppEndpoints.CohortPath).Append("\">Case series</a>")
            .Append("<a href=\"").Append(AppEndpoints.ValidatorPath).Append("\">Validator</a>")
            .Append("<a href=\"/docs\">API reference</a></nav></header>\n")
            .Append("<main id=\"main\">\n").Append(main).Append("\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>HTML-encodes text for element content and quoted attribute values.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A link to a resource's FHIR JSON on this service.</summary>
    public static string ResourceLink(string reference) =>
        $"<a href=\"/{E(reference)}?_format=json\">{E(reference)}</a>";

    public static IResult Page(string html, int statusCode = StatusCodes.Status200OK) =>
        TypedResults.Text(html, ContentType, Encoding.UTF8, statusCode);
}
