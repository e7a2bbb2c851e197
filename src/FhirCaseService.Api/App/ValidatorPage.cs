using System.Text;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Packages;
using Hl7.Fhir.Model;
using static FhirCaseService.Api.App.PageLayout;

namespace FhirCaseService.Api.App;

/// <summary>
/// The validator page: a form whose script (validate.js) posts the text to <c>[type]/$validate</c> and marks each issue
/// at its line and column. The page itself holds no data; the profiles offered are those of our package.
/// </summary>
internal static class ValidatorPage
{
    public static string Render(IReadOnlyList<(string Url, string Title)> profiles)
    {
        var html = new StringBuilder();
        html.Append("<h1>Validate a resource</h1>\n")
            .Append("<p>Paste or upload a FHIR R4 resource (JSON or XML). It is sent to this service's <code>$validate</code> — the engine ")
            .Append("<code>fhircase validate</code> uses — and nothing is stored.</p>\n")
            .Append("<form id=\"validate-form\" class=\"validator\">\n")
            .Append("<div class=\"field\"><label for=\"resource-text\">Resource (JSON or XML)</label>\n")
            .Append("<textarea id=\"resource-text\" name=\"resource\" rows=\"18\" spellcheck=\"false\" autocapitalize=\"off\" autocomplete=\"off\"></textarea></div>\n")
            .Append("<div class=\"field\"><label for=\"resource-file\">Or upload a file</label> <input id=\"resource-file\" type=\"file\" accept=\".json,.xml,application/json,application/fhir+json,application/xml,application/fhir+xml\"></div>\n")
            .Append("<div class=\"field\"><label for=\"profile\">Profile</label> <select id=\"profile\" name=\"profile\">")
            .Append("<option value=\"\">Let meta.profile decide</option>");
        foreach (var (url, title) in profiles)
            html.Append("<option value=\"").Append(E(url)).Append("\">").Append(E(title)).Append("</option>");
        html.Append("</select></div>\n")
            .Append("<button type=\"submit\" id=\"validate-button\">Validate</button>\n</form>\n")
            .Append("<section id=\"result\" class=\"result\" aria-labelledby=\"result-heading\" hidden>\n<h2 id=\"result-heading\">Result</h2>\n")
            .Append("<p id=\"result-summary\" role=\"status\"></p>\n<ol id=\"issues\" class=\"issues\"></ol>\n")
            .Append("<h3>The text, with the issues marked</h3>\n<div class=\"source-scroll\"><ol id=\"source\" class=\"source\"></ol></div>\n</section>\n");
        return Document("Validate", html.ToString(), "validate.js");
    }

    /// <summary>Our package's profiles (not its extensions), by title, for the selector.</summary>
    public static IReadOnlyList<(string Url, string Title)> Profiles(ConformanceContext context) => BundledPackages.FhirCaseProfiles().Source.Artifacts
        .Where(a => a.ResourceType == "StructureDefinition")
        .Select(a => context.Resolver.Resolve(a.Url) as StructureDefinition)
        .OfType<StructureDefinition>()
        .Where(d => d.Type != "Extension" && d.Derivation == StructureDefinition.TypeDerivationRule.Constraint)
        .Select(d => (Url: d.Url ?? "", Title: $"{d.Title ?? d.Name} ({d.Type})"))
        .OrderBy(p => p.Title, StringComparer.Ordinal)
        .ToList();
}
