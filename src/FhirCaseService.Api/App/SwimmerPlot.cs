using System.Globalization;
using System.Xml.Linq;
using FhirCaseService.CaseSeries.Summary;

namespace FhirCaseService.Api.App;

/// <summary>
/// Draws a swimmer plot as SVG on the server: one bar per patient from its start (month 0) to the last follow-up, one
/// marker per event. Only presentation attributes, no style element or attribute and no script, so the same document is
/// shown inline under the pages' strict CSP, downloaded as a file, and rasterised to PNG by the browser.
/// </summary>
public static class SwimmerPlot
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Average days per month: the axis is continuous time, labelled in months.</summary>
    private const double DaysPerMonth = 365.25 / 12;

    private const double LabelWidth = 150;
    private const double RightMargin = 70;
    private const double TopMargin = 34;
    private const double RowHeight = 72;
    private const double AxisHeight = 46;
    private const double LegendRowHeight = 22;

    /// <summary>About what fits across the plot at the title's size; the full title stays in the accessible name.</summary>
    private const int MaxTitleLength = 130;

    private const string Font = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif";
    private const string Ink = "#1f2328";
    private const string MutedInk = "#4b5563";

    /// <summary>Colours with at least 3:1 contrast on white (WCAG 1.4.11); each kind also has its own shape.</summary>
    private static readonly Dictionary<string, string> Colours = new(StringComparer.Ordinal)
    {
        [TimelineEventKinds.CarT] = "#0b62a4",
        [TimelineEventKinds.Relapse] = "#b2182b",
        [TimelineEventKinds.ExtramedullaryRelapse] = "#a34a00",
        [TimelineEventKinds.InoCycle] = "#6a3d9a",
        [TimelineEventKinds.CompleteRemission] = "#1b7837",
        [TimelineEventKinds.MrdNegative] = "#00707a",
        [TimelineEventKinds.Hsct] = "#1f2328",
        [TimelineEventKinds.Radiotherapy] = "#7a6300",
        [TimelineEventKinds.LastFollowUp] = "#4b5563",
    };

    private static readonly Dictionary<string, string> LegendNames = new(StringComparer.Ordinal)
    {
        [TimelineEventKinds.CarT] = "CAR-T infusion",
        [TimelineEventKinds.Relapse] = "Relapse (CD19/CD22)",
        [TimelineEventKinds.ExtramedullaryRelapse] = "Extramedullary relapse (site)",
        [TimelineEventKinds.InoCycle] = "Inotuzumab cycle",
        [TimelineEventKinds.CompleteRemission] = "Complete remission",
        [TimelineEventKinds.MrdNegative] = "MRD negative",
        [TimelineEventKinds.Hsct] = "Allo-HSCT",
        [TimelineEventKinds.Radiotherapy] = "Radiotherapy",
        [TimelineEventKinds.LastFollowUp] = "Last follow-up (status)",
    };

    /// <param name="patients">The rows, top to bottom.</param>
    /// <param name="title">The plot's accessible name (and its heading in a downloaded file).</param>
    /// <param name="patientLink">The link of a row's label (its patient page), or null for none.</param>
    /// <param name="width">The drawing's width in user units: a narrower drawing shown at the same size is an enlargement.</param>
    public static XElement Render(IReadOnlyList<PatientEvents> patients, string title, Func<PatientEvents, string>? patientLink, double width = 1000)
    {
        var legendColumns = width < 900 ? 3 : 4;
        var months = Math.Max(12, patients.Select(SpanInMonths).DefaultIfEmpty(0).Max());
        var tickStep = months <= 36 ? 6 : months <= 96 ? 12 : 24;
        var axisEnd = Math.Ceiling(months / tickStep) * tickStep;
        var plotWidth = width - LabelWidth - RightMargin;
        double X(double month) => LabelWidth + month / axisEnd * plotWidth;

        var plotBottom = TopMargin + patients.Count * RowHeight;
        var legendRows = (int)Math.Ceiling((TimelineEventKinds.All.Count + 1) / (double)legendColumns);
        var height = plotBottom + AxisHeight + legendRows * LegendRowHeight + 12;

        var svg = new XElement(Svg + "svg",
            new XAttribute("viewBox", $"0 0 {N(width)} {N(height)}"),
            new XAttribute("width", N(width)),
            new XAttribute("height", N(height)),
            new XAttribute("role", "img"),
            new XAttribute("aria-labelledby", "swimmer-title swimmer-desc"),
            new XAttribute("font-family", Font),
            new XAttribute("class", "swimmer-plot"),
            new XElement(Svg + "title", new XAttribute("id", "swimmer-title"), title),
            new XElement(Svg + "desc", new XAttribute("id", "swimmer-desc"),
                $"Swimmer plot of {patients.Count} patient{(patients.Count == 1 ? "" : "s")}: months from CAR-T infusion (or first relapse) to last follow-up. The table of events below the plot holds the same facts."),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "#ffffff")),
            new XElement(Svg + "text", new XAttribute("x", "20"), new XAttribute("y", "20"), new XAttribute("font-size", "13"),
                new XAttribute("font-weight", "600"), new XAttribute("fill", Ink), Shortened(title, MaxTitleLength)));

        svg.Add(Axis(axisEnd, tickStep, X, plotBottom));
        for (var i = 0; i < patients.Count; i++)
            svg.Add(Row(patients[i], TopMargin + i * RowHeight + RowHeight / 2, X, patientLink));
        svg.Add(Legend(plotBottom + AxisHeight, width, legendColumns));
        return svg;
    }

    private static double SpanInMonths(PatientEvents patient) => patient.Start is DateOnly start
        ? patient.Drawn.Select(e => MonthsBetween(start, e.EndDate ?? e.Date)).Append(patient.End is DateOnly end ? MonthsBetween(start, end) : 0).Max()
        : 0;

    public static double MonthsBetween(DateOnly from, DateOnly to) => (to.DayNumber - from.DayNumber) / DaysPerMonth;

    private static XElement Axis(double axisEnd, int tickStep, Func<double, double> x, double plotBottom)
    {
        var axis = new XElement(Svg + "g", new XAttribute("class", "axis"), new XAttribute("aria-hidden", "true"),
            Line(x(0), plotBottom, x(axisEnd), plotBottom, MutedInk, 1));
        for (var month = 0; month <= axisEnd; month += tickStep)
        {
            axis.Add(Line(x(month), TopMargin, x(month), plotBottom, "#d0d7de", 1));
            axis.Add(Text(x(month), plotBottom + 16, month.ToString(Invariant), 12, MutedInk, "middle"));
        }
        axis.Add(Text(x(axisEnd / 2), plotBottom + 34, "Months from CAR-T infusion (or first relapse)", 12, Ink, "middle"));
        return axis;
    }

    private static XElement Row(PatientEvents patient, double y, Func<double, double> x, Func<PatientEvents, string>? patientLink)
    {
        var row = new XElement(Svg + "g",
            new XAttribute("class", "swimmer-row"),
            new XAttribute("data-patient-id", patient.PatientId),
            new XAttribute("data-illustrative", patient.Illustrative ? "true" : "false"));
        var label = Text(LabelWidth - 10, y + 4, patient.Label, 13, Ink, "end");
        row.Add(patientLink is null ? label : new XElement(Svg + "a", new XAttribute("href", patientLink(patient)), label));
        if (patient.Start is not DateOnly start)
            return row;

        var end = MonthsBetween(start, patient.End ?? start);
        var bar = new XElement(Svg + "rect",
            new XAttribute("x", N(x(0))), new XAttribute("y", N(y - 6)),
            new XAttribute("width", N(Math.Max(2, x(end) - x(0)))), new XAttribute("height", "12"), new XAttribute("rx", "2"),
            new XAttribute("fill", "#dbe4ee"), new XAttribute("stroke", "#52677a"), new XAttribute("stroke-width", "1"));
        if (patient.Illustrative)
            bar.Add(new XAttribute("stroke-dasharray", "5 3"));
        row.Add(new XElement(Svg + "g", new XAttribute("class", "swimmer-bar"), new XElement(Svg + "title",
            $"{patient.Label}: {start:yyyy-MM-dd} to {patient.End ?? start:yyyy-MM-dd}, {end.ToString("0.0", Invariant)} months"), bar));

        foreach (var timelineEvent in patient.Drawn)
            row.Add(Marker(timelineEvent, y, x(MonthsBetween(start, timelineEvent.Date)),
                timelineEvent.EndDate is DateOnly until ? x(MonthsBetween(start, until)) : null, MonthsBetween(start, timelineEvent.Date)));
        return row;
    }

    private static XElement Marker(TimelineEvent timelineEvent, double y, double x, double? xEnd, double month)
    {
        var marker = new XElement(Svg + "g",
            new XAttribute("class", "marker"),
            new XAttribute("data-event", timelineEvent.Kind),
            new XAttribute("data-date", timelineEvent.Date.ToString("yyyy-MM-dd", Invariant)),
            new XAttribute("data-resource", timelineEvent.Resource),
            new XAttribute("data-illustrative", timelineEvent.Illustrative ? "true" : "false"),
            new XElement(Svg + "title",
                $"{timelineEvent.Detail} Month {month.ToString("0.0", Invariant)}.{(timelineEvent.Illustrative ? " Illustrative value." : "")}"));
        marker.Add(Shape(timelineEvent.Kind, x, y, xEnd, timelineEvent.Illustrative));
        switch (timelineEvent.Kind)
        {
            case TimelineEventKinds.Relapse or TimelineEventKinds.ExtramedullaryRelapse:
                marker.Add(Text(x, y - 24, timelineEvent.Label, 11, Colours[timelineEvent.Kind], "middle"));
                break;
            case TimelineEventKinds.LastFollowUp:
                marker.Add(Text(x + 12, y + 4, timelineEvent.Label, 12, Ink, "start"));
                break;
        }
        return marker;
    }

    /// <summary>The marker shape of one kind at (x, y); illustrative values are drawn hollow with a dashed outline.</summary>
    private static IEnumerable<XElement> Shape(string kind, double x, double y, double? xEnd, bool illustrative)
    {
        var colour = Colours[kind];
        XElement Styled(XElement shape)
        {
            shape.Add(new XAttribute("fill", illustrative ? "#ffffff" : colour), new XAttribute("stroke", colour), new XAttribute("stroke-width", "2"));
            if (illustrative)
                shape.Add(new XAttribute("stroke-dasharray", "3 2"));
            return shape;
        }

        switch (kind)
        {
            case TimelineEventKinds.CarT:
                yield return Styled(Polygon((x - 7, y - 8), (x + 8, y), (x - 7, y + 8)));
                break;
            case TimelineEventKinds.Relapse:
                // A cross has no inside to leave hollow; illustrative crosses are dashed only.
                var cross = new XElement(Svg + "path", new XAttribute("d", $"M{N(x - 6)},{N(y - 20)} L{N(x + 6)},{N(y - 8)} M{N(x + 6)},{N(y - 20)} L{N(x - 6)},{N(y - 8)}"),
                    new XAttribute("stroke", colour), new XAttribute("stroke-width", "3"), new XAttribute("fill", "none"));
                if (illustrative)
                    cross.Add(new XAttribute("stroke-dasharray", "4 1.5"));
                yield return cross;
                break;
            case TimelineEventKinds.ExtramedullaryRelapse:
                yield return Styled(Polygon((x, y - 21), (x + 7, y - 14), (x, y - 7), (x - 7, y - 14)));
                break;
            case TimelineEventKinds.InoCycle:
                yield return Styled(new XElement(Svg + "rect", new XAttribute("x", N(x)), new XAttribute("y", N(y - 5)),
                    new XAttribute("width", N(Math.Max(5, (xEnd ?? x) - x))), new XAttribute("height", "10")));
                break;
            case TimelineEventKinds.CompleteRemission:
                yield return Styled(new XElement(Svg + "rect", new XAttribute("x", N(x - 5)), new XAttribute("y", N(y + 9)),
                    new XAttribute("width", "10"), new XAttribute("height", "10")));
                break;
            case TimelineEventKinds.MrdNegative:
                yield return Styled(new XElement(Svg + "circle", new XAttribute("cx", N(x)), new XAttribute("cy", N(y + 28)), new XAttribute("r", "5")));
                break;
            case TimelineEventKinds.Hsct:
                yield return Styled(new XElement(Svg + "rect", new XAttribute("x", N(x - 2)), new XAttribute("y", N(y - 13)),
                    new XAttribute("width", "4"), new XAttribute("height", "26")));
                break;
            case TimelineEventKinds.Radiotherapy:
                yield return Styled(new XElement(Svg + "rect", new XAttribute("x", N(x)), new XAttribute("y", N(y + 8)),
                    new XAttribute("width", N(Math.Max(6, (xEnd ?? x) - x))), new XAttribute("height", "8")));
                break;
            case TimelineEventKinds.LastFollowUp:
                yield return Styled(Polygon((x, y - 8), (x + 9, y), (x, y + 8)));
                break;
        }
    }

    private static XElement Legend(double top, double width, int columns)
    {
        var legend = new XElement(Svg + "g", new XAttribute("class", "legend"));
        var columnWidth = (width - 20) / columns;
        var items = TimelineEventKinds.All.Select(k => (Kind: (string?)k, Name: LegendNames[k]))
            .Append((null, "Hollow, dashed: illustrative value"))
            .ToList();
        for (var i = 0; i < items.Count; i++)
        {
            var x = 20 + i % columns * columnWidth;
            var y = top + i / columns * LegendRowHeight + 8;
            var item = new XElement(Svg + "g", new XAttribute("class", "legend-item"));
            // Shapes are drawn where Shape puts them relative to the row centre, so each is shifted back onto the legend line.
            var (kind, name) = items[i];
            var shift = kind switch
            {
                TimelineEventKinds.Relapse => 14.0,
                TimelineEventKinds.ExtramedullaryRelapse => 14,
                TimelineEventKinds.CompleteRemission => -14,
                TimelineEventKinds.MrdNegative => -28,
                TimelineEventKinds.Radiotherapy => -12,
                _ => 0,
            };
            item.Add(kind is null
                ? new XElement(Svg + "rect", new XAttribute("x", N(x - 6)), new XAttribute("y", N(y - 6)), new XAttribute("width", "12"), new XAttribute("height", "12"),
                    new XAttribute("fill", "#ffffff"), new XAttribute("stroke", Ink), new XAttribute("stroke-width", "2"), new XAttribute("stroke-dasharray", "3 2"))
                : new XElement(Svg + "g", Shape(kind, kind is TimelineEventKinds.InoCycle or TimelineEventKinds.Radiotherapy ? x - 6 : x, y + shift, x + 6, illustrative: false)));
            item.Add(Text(x + 14, y + 4, name, 12, Ink, "start"));
            legend.Add(item);
        }
        return legend;
    }

    private static XElement Polygon(params (double X, double Y)[] points) =>
        new(Svg + "polygon", new XAttribute("points", string.Join(" ", points.Select(p => $"{N(p.X)},{N(p.Y)}"))));

    private static XElement Line(double x1, double y1, double x2, double y2, string stroke, double width) =>
        new(Svg + "line", new XAttribute("x1", N(x1)), new XAttribute("y1", N(y1)), new XAttribute("x2", N(x2)), new XAttribute("y2", N(y2)),
            new XAttribute("stroke", stroke), new XAttribute("stroke-width", N(width)));

    private static XElement Text(double x, double y, string text, double size, string fill, string anchor) =>
        new(Svg + "text", new XAttribute("x", N(x)), new XAttribute("y", N(y)), new XAttribute("font-size", N(size)),
            new XAttribute("fill", fill), new XAttribute("text-anchor", anchor), text);

    private static string Shortened(string text, int length) => text.Length <= length ? text : text[..(length - 1)].TrimEnd() + "…";

    private static string N(double value) => Math.Round(value, 2).ToString(Invariant);
}
