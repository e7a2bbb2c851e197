using System.Globalization;
using System.Text.RegularExpressions;

namespace FhirCaseService.CaseSeries.Input;

/// <summary>
/// A calendar date known to the year, month or day (YYYY, YYYY-MM, YYYY-MM-DD), as case reports give them.
/// Ordering checks compare ranges, so a date is "impossibly before" another only if every day it may be
/// comes before every day the other may be.
/// </summary>
public readonly partial record struct PartialDate(int Year, int? Month, int? Day) : IComparable<PartialDate>
{
    public DateOnly Earliest => new(Year, Month ?? 1, Day ?? 1);

    public DateOnly Latest => Month is int m
        ? new DateOnly(Year, m, Day ?? DateTime.DaysInMonth(Year, m))
        : new DateOnly(Year, 12, 31);

    public bool IsFullDate => Day is not null;

    /// <summary>True when this date must lie strictly before <paramref name="other"/> whatever the unknown parts are.</summary>
    public bool IsCertainlyBefore(PartialDate other) => Latest < other.Earliest;

    public int CompareTo(PartialDate other) => Earliest.CompareTo(other.Earliest) is var c and not 0 ? c : Latest.CompareTo(other.Latest);

    /// <summary>The FHIR date / dateTime literal (same syntax for all three precisions).</summary>
    public override string ToString() => Month is null
        ? Year.ToString("D4", CultureInfo.InvariantCulture)
        : Day is null
            ? $"{Year:D4}-{Month:D2}"
            : $"{Year:D4}-{Month:D2}-{Day:D2}";

    public static bool TryParse(string text, out PartialDate date)
    {
        date = default;
        var match = Pattern().Match(text);
        if (!match.Success)
            return false;
        var year = int.Parse(match.Groups["y"].Value, CultureInfo.InvariantCulture);
        int? month = match.Groups["m"].Success ? int.Parse(match.Groups["m"].Value, CultureInfo.InvariantCulture) : null;
        int? day = match.Groups["d"].Success ? int.Parse(match.Groups["d"].Value, CultureInfo.InvariantCulture) : null;
        if (year < 1900 || month is < 1 or > 12)
            return false;
        if (day is int d && (d < 1 || d > DateTime.DaysInMonth(year, month!.Value)))
            return false;
        date = new PartialDate(year, month, day);
        return true;
    }

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<m>\d{2})(-(?<d>\d{2}))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
