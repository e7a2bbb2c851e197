using System.Globalization;
using System.Text;
using System.Xml.Linq;
using FhirCaseService.CaseSeries.Summary;
using Hl7.Fhir.Model;
using static FhirCaseService.Api.App.PageLayout;

namespace FhirCaseService.Api.App;

/// <summary>The cohort page: the swimmer plot, the headline numbers beside it, and the same events as a table.</summary>
internal static class CohortPage
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <param name="groups">Every stored case series, for the selector.</param>
    /// <param name="group">The one shown, or null when no Group is stored (then every stored patient is shown).</param>
    /// <param name="view">The whole cohort's numbers and one page of its patients' events.</param>
    public static string Render(IReadOnlyList<Group> groups, Group? group, CohortPageView view)
    {
        var timeline = view.Timeline;
        var title = Title(group);
        var svgUrl = AppEndpoints.SwimmerSvgPath + Query(group, view.Pages > 1 ? view.Page : null);
        var html = new StringBuilder();
        html.Append("<h1>").Append(E(title)).Append("</h1>\n");
        if (groups.Count > 1)
        {
            html.Append("<form class=\"group-selector\" method=\"get\" action=\"").Append(AppEndpoints.CohortPath).Append("\">")
                .Append("<label for=\"group\">Case series</label> <select id=\"group\" name=\"group\">");
            foreach (var candidate in groups)
                html.Append("<option value=\"").Append(E(candidate.Id)).Append('"').Append(candidate.Id == group?.Id ? " selected" : "").Append('>')
                    .Append(E(candidate.Name ?? candidate.Id)).Append("</option>");
            html.Append("</select> <button type=\"submit\">Show</button></form>\n");
        }
        if (timeline.Patients.Count == 0)
        {
            html.Append("<p>No patients are stored for this case series.</p>");
            return Document(title, html.ToString());
        }

        var svg = SwimmerPlot.Render(timeline.Patients, $"{title}: swimmer plot", p => AppEndpoints.PatientPath(p.PatientId));
        html.Append("<div class=\"cohort\">\n<section class=\"plot\" aria-labelledby=\"plot-heading\">\n<h2 id=\"plot-heading\">Swimmer plot</h2>\n")
            .Append("<div class=\"plot-scroll\">").Append(svg.ToString(SaveOptions.DisableFormatting)).Append("</div>\n")
            .Append("<p class=\"downloads\"><a class=\"button\" href=\"").Append(E(svgUrl + (svgUrl.Contains('?') ? "&" : "?") + "download=1"))
            .Append("\" download=\"swimmer-plot.svg\">Download SVG</a> <button type=\"button\" id=\"download-png\" data-svg=\"").Append(E(svgUrl))
            .Append("\">Download PNG</button></p>\n");
        if (timeline.Patients.Any(p => p.Illustrative || p.Events.Any(e => e.Illustrative)))
            html.Append("<p class=\"note\">Hollow markers with dashed outlines are <strong>illustrative</strong> values: the record marks them as filled in for illustration, not reported (see each resource's Provenance).</p>\n");
        html.Append(Pager(group, view));
        html.Append("</section>\n").Append(Headline(timeline.Summary, group)).Append("</div>\n");
        html.Append(EventTable(timeline.Patients));
        return Document(title, html.ToString(), "app.js");
    }

    /// <summary>"Patients 51–100 of 10,000" with links to the previous and next pages; nothing when one page holds the cohort.</summary>
    private static string Pager(Group? group, CohortPageView view)
    {
        if (view.Pages <= 1)
            return "";
        var total = view.Timeline.Summary.Patients;
        var last = view.FirstIndex + view.Timeline.Patients.Count;
        var html = new StringBuilder("<nav class=\"pager\" aria-label=\"Pages of patients\"><p>Patients ")
            .Append((view.FirstIndex + 1).ToString("N0", Invariant)).Append('–').Append(last.ToString("N0", Invariant))
            .Append(" of ").Append(total.ToString("N0", Invariant)).Append(" (page ").Append(view.Page.ToString(Invariant))
            .Append(" of ").Append(view.Pages.ToString(Invariant)).Append(")</p>");
        if (view.Page > 1)
            html.Append(" <a rel=\"prev\" href=\"").Append(E(AppEndpoints.CohortPath + Query(group, view.Page - 1))).Append("\">Previous patients</a>");
        if (view.Page < view.Pages)
            html.Append(" <a rel=\"next\" href=\"").Append(E(AppEndpoints.CohortPath + Query(group, view.Page + 1))).Append("\">Next patients</a>");
        return html.Append("</nav>\n").ToString();
    }

    private static string Query(Group? group, int? page)
    {
        var parts = new List<string>();
        if (group is not null)
            parts.Add("group=" + Uri.EscapeDataString(group.Id ?? ""));
        if (page is int number)
            parts.Add("page=" + number.ToString(Invariant));
        return parts.Count == 0 ? "" : "?" + string.Join("&", parts);
    }

    public static string Title(Group? group) => group is null ? "All stored patients" : group.Name ?? $"Group/{group.Id}";

    /// <summary>The paper's headline numbers, computed live by the cohort summary (the numbers of <c>$case-series-summary</c>).</summary>
    private static string Headline(CohortSummary summary, Group? group)
    {
        var n = summary.Patients;
        string OfN(int count) => $"{count} of {n}";
        var cycles = summary.FewestInoCyclesBeforeHsct is int fewest && summary.MostInoCyclesBeforeHsct is int most
            ? fewest == most ? fewest.ToString(Invariant) : $"{fewest}–{most}"
            : "none";
        var followUp = summary.MeanFollowUpMonthsAfterHsctWithoutRelapse is decimal months ? $"{months.ToString("0.0", Invariant)} months" : "not computable";
        var rows = new (string Key, string Term, string Value)[]
        {
            ("patients", "Patients", n.ToString(Invariant)),
            ("cr-after-cycle-1", "Complete remission after inotuzumab cycle 1", OfN(summary.CompleteRemissionAfterFirstInoCycle)),
            ("mrd-negative", "MRD negative after inotuzumab", OfN(summary.MrdNegativeAfterIno)),
            ("ino-cycles", "Inotuzumab cycles before HSCT", cycles),
            ("hsct", "Allogeneic HSCT", OfN(summary.AlloHsct)),
            ("extramedullary-relapses", "Isolated extramedullary relapse after HSCT", OfN(summary.IsolatedExtramedullaryRelapsesAfterHsct.Count)),
            ("mean-follow-up", "Mean follow-up after HSCT without relapse", followUp),
        };
        var html = new StringBuilder("<aside class=\"headline\" aria-labelledby=\"headline-heading\">\n<h2 id=\"headline-heading\">Headline numbers</h2>\n<dl>\n");
        foreach (var (key, term, value) in rows)
            html.Append("<div data-figure=\"").Append(key).Append("\"><dt>").Append(E(term)).Append("</dt><dd>").Append(E(value)).Append("</dd></div>\n");
        html.Append("</dl>\n<p class=\"note\">Computed now from the stored FHIR resources, as <a href=\"/$case-series-summary")
            .Append(group is null ? "" : "?group=" + E(Uri.EscapeDataString(group.Id ?? ""))).Append("\">$case-series-summary</a> computes them.</p>\n</aside>\n");
        return html.ToString();
    }

    /// <summary>The plot's text alternative: every drawn event, one row each.</summary>
    private static string EventTable(IReadOnlyList<PatientEvents> patients)
    {
        var html = new StringBuilder("<section aria-labelledby=\"events-heading\">\n<h2 id=\"events-heading\">Events (the plot as a table)</h2>\n<div class=\"table-scroll\"><table class=\"events\">\n")
            .Append("<thead><tr><th scope=\"col\">Patient</th><th scope=\"col\">Date</th><th scope=\"col\">Month</th><th scope=\"col\">Event</th><th scope=\"col\">Details</th><th scope=\"col\">Resource</th></tr></thead>\n<tbody>\n");
        foreach (var patient in patients)
            foreach (var timelineEvent in patient.Drawn)
                html.Append(EventRow(patient, timelineEvent, withPatient: true));
        html.Append("</tbody></table></div>\n</section>\n");
        return html.ToString();
    }

    public static string EventRow(PatientEvents patient, TimelineEvent timelineEvent, bool withPatient)
    {
        var month = patient.Start is DateOnly start ? SwimmerPlot.MonthsBetween(start, timelineEvent.Date).ToString("0.0", Invariant) : "";
        var html = new StringBuilder("<tr data-patient-id=\"").Append(E(patient.PatientId)).Append("\" data-event=\"").Append(timelineEvent.Kind).Append("\">");
        if (withPatient)
            html.Append("<td><a href=\"").Append(E(AppEndpoints.PatientPath(patient.PatientId))).Append("\">").Append(E(patient.Label)).Append("</a></td>");
        html.Append("<td>").Append(timelineEvent.Date.ToString("yyyy-MM-dd", Invariant)).Append("</td><td>").Append(month).Append("</td>")
            .Append("<td>").Append(E(EventName(timelineEvent.Kind))).Append("</td><td>").Append(E(timelineEvent.Detail))
            .Append(timelineEvent.Illustrative ? " <span class=\"tag\">illustrative</span>" : "").Append("</td>")
            .Append("<td>").Append(ResourceLink(timelineEvent.Resource)).Append("</td></tr>\n");
        return html.ToString();
    }

    private static string EventName(string kind) => kind switch
    {
        TimelineEventKinds.CarT => "CAR-T infusion",
        TimelineEventKinds.Relapse => "Relapse",
        TimelineEventKinds.ExtramedullaryRelapse => "Extramedullary relapse",
        TimelineEventKinds.InoCycle => "Inotuzumab cycle",
        TimelineEventKinds.CompleteRemission => "Complete remission",
        TimelineEventKinds.MrdNegative => "MRD negative",
        TimelineEventKinds.Hsct => "Allo-HSCT",
        TimelineEventKinds.Radiotherapy => "Radiotherapy",
        TimelineEventKinds.LastFollowUp => "Last follow-up",
        _ => kind,
    };
}

/// <summary>What the cohort page shows: the whole cohort's summary, and the events of page <see cref="Page"/> of <see cref="Pages"/>.</summary>
/// <param name="FirstIndex">The position in the cohort (0-based, in the summary's order) of the page's first patient.</param>
internal sealed record CohortPageView(CaseSeriesTimeline Timeline, int Page, int Pages, int FirstIndex);
