using System.Globalization;
using System.Text;
using System.Xml.Linq;
using FhirCaseService.CaseSeries.Summary;
using Hl7.Fhir.Model;
using static FhirCaseService.Api.App.PageLayout;

namespace FhirCaseService.Api.App;

/// <summary>One patient in detail: the swimmer row enlarged, MRD and CD19/CD22 results, treatments, and the resources.</summary>
internal static class PatientPage
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly HashSet<string> TreatmentKinds = new(StringComparer.Ordinal)
    {
        TimelineEventKinds.CarT, TimelineEventKinds.InoCycle, TimelineEventKinds.Hsct, TimelineEventKinds.Radiotherapy,
    };

    public static string Render(PatientEvents patient, IReadOnlyList<Resource> resources)
    {
        var title = $"Patient {patient.Label}";
        var html = new StringBuilder();
        html.Append("<p class=\"breadcrumb\"><a href=\"").Append(AppEndpoints.CohortPath).Append("\">Case series</a> › ").Append(E(patient.Label)).Append("</p>\n")
            .Append("<h1>").Append(E(title)).Append("</h1>\n")
            .Append("<dl class=\"facts\">")
            .Append(Fact("Patient.id", patient.PatientId))
            .Append(Fact("CAR-T indication", patient.Course.CarTIndication ?? "not known"))
            .Append(Fact("Relapse after CAR-T", patient.Course.PostCarTRelapsePhenotype ?? "none recorded"))
            .Append(Fact("Inotuzumab cycles before HSCT", patient.Course.InoCyclesBeforeHsct.ToString(Invariant)))
            .Append(Fact("Status at last follow-up", patient.Course.StatusAtLastFollowUp ?? "not known"))
            .Append("</dl>\n");
        if (patient.Illustrative || patient.Events.Any(e => e.Illustrative))
            html.Append("<p class=\"note\">Values tagged <strong>illustrative</strong> are drawn hollow with dashed outlines and marked in the tables.</p>\n");

        // Drawn 640 units wide and shown as wide as the cohort's 1000: the same row, enlarged.
        var svg = SwimmerPlot.Render([patient], $"Patient {patient.Label}: timeline", patientLink: null, width: 640);
        html.Append("<section aria-labelledby=\"timeline-heading\"><h2 id=\"timeline-heading\">Timeline</h2>\n<div class=\"plot-scroll single\">")
            .Append(svg.ToString(SaveOptions.DisableFormatting)).Append("</div>\n")
            .Append("<div class=\"table-scroll\"><table class=\"events\"><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Month</th><th scope=\"col\">Event</th><th scope=\"col\">Details</th><th scope=\"col\">Resource</th></tr></thead><tbody>\n");
        foreach (var timelineEvent in patient.Events)
            html.Append(CohortPage.EventRow(patient, timelineEvent, withPatient: false));
        html.Append("</tbody></table></div></section>\n");

        html.Append(MrdSection(patient)).Append(AntigenSection(patient)).Append(TreatmentSection(patient)).Append(ResourceSection(resources));
        return Document(title, html.ToString());
    }

    private static string Fact(string term, string value) => $"<div><dt>{E(term)}</dt><dd>{E(value)}</dd></div>";

    private static string MrdSection(PatientEvents patient)
    {
        var html = new StringBuilder("<section aria-labelledby=\"mrd-heading\"><h2 id=\"mrd-heading\">MRD results</h2>\n");
        if (patient.Mrd.Count == 0)
            return html.Append("<p>No MRD results are stored.</p></section>\n").ToString();
        html.Append("<div class=\"table-scroll\"><table class=\"mrd\"><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Result</th><th scope=\"col\">Limit of detection</th><th scope=\"col\">Method</th><th scope=\"col\">Resource</th></tr></thead><tbody>\n");
        foreach (var result in patient.Mrd)
        {
            var value = result.NotDetected ? "not detected" : result.Percent is decimal percent ? $"{percent.ToString(Invariant)} %" : "no value";
            var limit = result.NotDetected ? result.LimitOfDetectionPercent is decimal lod ? $"{lod.ToString(Invariant)} %" : "not reported" : "";
            html.Append("<tr data-mrd-date=\"").Append(result.Date?.ToString("yyyy-MM-dd", Invariant)).Append("\" data-mrd=\"").Append(result.NotDetected ? "not-detected" : "detected").Append("\">")
                .Append("<td>").Append(result.Date?.ToString("yyyy-MM-dd", Invariant) ?? "no date").Append("</td>")
                .Append("<td>").Append(E(value)).Append(result.Illustrative ? " <span class=\"tag\">illustrative</span>" : "").Append("</td>")
                .Append("<td>").Append(E(limit)).Append("</td><td>").Append(E(result.Method ?? "not reported")).Append("</td>")
                .Append("<td>").Append(ResourceLink(result.Resource)).Append("</td></tr>\n");
        }
        return html.Append("</tbody></table></div></section>\n").ToString();
    }

    private static string AntigenSection(PatientEvents patient)
    {
        var html = new StringBuilder("<section aria-labelledby=\"antigen-heading\"><h2 id=\"antigen-heading\">CD19 and CD22 expression</h2>\n");
        if (patient.Antigens.Count == 0)
            return html.Append("<p>No CD19 or CD22 results are stored.</p></section>\n").ToString();
        html.Append("<div class=\"table-scroll\"><table><thead><tr><th scope=\"col\">Date</th><th scope=\"col\">Antigen</th><th scope=\"col\">Interpretation</th><th scope=\"col\">Values</th><th scope=\"col\">Resource</th></tr></thead><tbody>\n");
        foreach (var result in patient.Antigens)
            html.Append("<tr><td>").Append(result.Date?.ToString("yyyy-MM-dd", Invariant) ?? "no date").Append("</td><td>").Append(E(result.Antigen)).Append("</td>")
                .Append("<td>").Append(E(result.Interpretation ?? "not given")).Append(result.Illustrative ? " <span class=\"tag\">illustrative</span>" : "").Append("</td>")
                .Append("<td>").Append(E(result.Values.Count == 0 ? "—" : string.Join("; ", result.Values))).Append("</td>")
                .Append("<td>").Append(ResourceLink(result.Resource)).Append("</td></tr>\n");
        return html.Append("</tbody></table></div></section>\n").ToString();
    }

    private static string TreatmentSection(PatientEvents patient)
    {
        var treatments = patient.Events.Where(e => TreatmentKinds.Contains(e.Kind)).ToList();
        var html = new StringBuilder("<section aria-labelledby=\"treatment-heading\"><h2 id=\"treatment-heading\">Treatments</h2>\n");
        if (treatments.Count == 0)
            return html.Append("<p>No treatments are stored.</p></section>\n").ToString();
        html.Append("<ul class=\"treatments\">\n");
        foreach (var treatment in treatments)
            html.Append("<li>").Append(E(treatment.Detail)).Append(' ').Append(ResourceLink(treatment.Resource)).Append("</li>\n");
        return html.Append("</ul></section>\n").ToString();
    }

    private static string ResourceSection(IReadOnlyList<Resource> resources)
    {
        var html = new StringBuilder("<section aria-labelledby=\"resources-heading\"><h2 id=\"resources-heading\">Resources</h2>\n<ul class=\"resources\">\n");
        foreach (var resource in resources.OrderBy(r => r.TypeName, StringComparer.Ordinal).ThenBy(r => r.Id, StringComparer.Ordinal))
            html.Append("<li>").Append(ResourceLink($"{resource.TypeName}/{resource.Id}")).Append("</li>\n");
        return html.Append("</ul></section>\n").ToString();
    }
}
