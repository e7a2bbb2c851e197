using System.Globalization;
using System.Text;
using FhirCaseService.CaseSeries.Summary;

namespace FhirCaseService.Cli.Commands;

/// <summary>The human-readable form of a <see cref="CohortSummary"/>.</summary>
internal static class SummaryTable
{
    public static string Render(CohortSummary summary)
    {
        var n = summary.Patients;
        var rows = new List<(string Label, string Value)>
        {
            ("Patients", n.ToString(CultureInfo.InvariantCulture)),
            ("CAR-T indication", Categories(summary.CarTIndication, n)),
            ("Relapse phenotype after CAR-T", Categories(summary.PostCarTRelapsePhenotype, n)),
            ("CR after first InO cycle", $"{summary.CompleteRemissionAfterFirstInoCycle}/{n}"),
            ("MRD-negative after InO", $"{summary.MrdNegativeAfterIno}/{n}"),
            ("InO cycles before HSCT", summary.FewestInoCyclesBeforeHsct is int fewest
                ? fewest == summary.MostInoCyclesBeforeHsct ? $"{fewest}" : $"{fewest}-{summary.MostInoCyclesBeforeHsct}"
                : "none"),
            ("Allogeneic HSCT", $"{summary.AlloHsct}/{n}"),
            ("Isolated extramedullary relapse after HSCT", $"{summary.IsolatedExtramedullaryRelapsesAfterHsct.Count}/{n}"),
        };
        rows.AddRange(summary.IsolatedExtramedullaryRelapsesAfterHsct.Select(r => ($"  {r.Patient}", Describe(r))));
        rows.Add(("Status at last follow-up", Categories(summary.StatusAtLastFollowUp, n)));
        var withoutRelapse = summary.PerPatient.Count(p => p.AlloHsct && !p.RelapseAfterHsct && p.FollowUpMonthsAfterHsct is not null);
        rows.Add(("Mean follow-up after HSCT, no relapse after HSCT", summary.MeanFollowUpMonthsAfterHsctWithoutRelapse is decimal mean
            ? $"{mean.ToString("0.0", CultureInfo.InvariantCulture)} months (n={withoutRelapse})"
            : "not known"));

        var width = rows.Max(r => r.Label.Length);
        var text = new StringBuilder();
        foreach (var (label, value) in rows)
            text.Append(label.PadRight(width)).Append("  ").Append(value).Append('\n');

        text.Append('\n');
        string[] header = ["patient", "CAR-T indication", "phenotype after CAR-T", "CR after C1", "MRD-neg", "InO cycles", "HSCT", "months after HSCT", "last status"];
        var table = summary.PerPatient.Select(p => new[]
        {
            p.Patient, p.CarTIndication ?? "-", p.PostCarTRelapsePhenotype ?? "-", YesNo(p.CompleteRemissionAfterFirstInoCycle), YesNo(p.MrdNegativeAfterIno),
            p.InoCyclesBeforeHsct.ToString(CultureInfo.InvariantCulture), YesNo(p.AlloHsct),
            p.FollowUpMonthsAfterHsct?.ToString(CultureInfo.InvariantCulture) ?? "-", p.StatusAtLastFollowUp ?? "-",
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, table.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        foreach (var row in table.Prepend(header))
            text.Append(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()).Append('\n');
        return text.ToString();
    }

    private static string Categories(IReadOnlyList<CategoryCount> counts, int of) =>
        counts.Count == 0 ? "none" : string.Join("; ", counts.Select(c => $"{c.Category} {c.Count}/{of}"));

    private static string Describe(ExtramedullaryRelapseAfterHsct relapse)
    {
        var parts = new List<string> { $"{string.Join(", ", relapse.Sites)} at {string.Join(" and ", relapse.MonthsAfterHsct)} months after HSCT" };
        if (relapse.RadiotherapyBodySites.Count > 0)
            parts.Add($"{(relapse.PalliativeRadiotherapy ? "palliative " : "")}radiotherapy to {string.Join(", ", relapse.RadiotherapyBodySites)}");
        if (relapse.StatusAtLastFollowUp is not null)
            parts.Add($"{relapse.StatusAtLastFollowUp} {relapse.MonthsFromLastRelapseToLastFollowUp?.ToString(CultureInfo.InvariantCulture) ?? "?"} months later");
        return string.Join("; ", parts);
    }

    private static string YesNo(bool value) => value ? "yes" : "no";
}
