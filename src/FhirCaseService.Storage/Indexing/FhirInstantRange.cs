using System.Globalization;
using System.Text.RegularExpressions;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// The span of UTC instants a FHIR date, dateTime or instant denotes, in epoch milliseconds, both ends inclusive:
/// "2021" covers the whole year, "2021-03-04T10:00" the whole minute. A value without a time zone is read as UTC
/// (documented in docs/storage.md): the case data carries dates only, and a fixed rule keeps index and query aligned.
/// </summary>
internal static partial class FhirInstantRange
{
    public const long MinValue = -62135596800000;   // 0001-01-01T00:00:00Z
    public const long MaxValue = 253402300799999;   // 9999-12-31T23:59:59.999Z

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<mo>\d{2})(-(?<d>\d{2})(T(?<h>\d{2})(:(?<mi>\d{2})(:(?<s>\d{2})(\.(?<f>\d{1,9}))?)?)?(?<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out long low, out long high)
    {
        low = high = 0;
        if (text is null)
            return false;
        var m = Pattern().Match(text.Trim());
        if (!m.Success)
            return false;
        try
        {
            var year = Int(m, "y");
            var month = m.Groups["mo"].Success ? Int(m, "mo") : 1;
            var day = m.Groups["d"].Success ? Int(m, "d") : 1;
            var hour = m.Groups["h"].Success ? Int(m, "h") : 0;
            var minute = m.Groups["mi"].Success ? Int(m, "mi") : 0;
            var second = m.Groups["s"].Success ? Int(m, "s") : 0;
            var offset = TimeSpan.Zero;
            if (m.Groups["tz"].Success && m.Groups["tz"].Value != "Z")
            {
                var tz = m.Groups["tz"].Value;
                offset = new TimeSpan(int.Parse(tz.AsSpan(1, 2), CultureInfo.InvariantCulture), int.Parse(tz.AsSpan(4, 2), CultureInfo.InvariantCulture), 0);
                if (tz[0] == '-')
                    offset = -offset;
            }
            var start = new DateTimeOffset(year, month, day, hour, minute, second, offset);
            DateTimeOffset end;
            if (m.Groups["f"].Success)
            {
                var digits = m.Groups["f"].Value;
                var fractionTicks = long.Parse(digits.PadRight(7, '0')[..7], CultureInfo.InvariantCulture);
                start = start.AddTicks(fractionTicks);
                // Precision below a millisecond is beyond the index; the instant is its own millisecond.
                end = start;
            }
            else if (m.Groups["s"].Success) end = start.AddSeconds(1).AddTicks(-1);
            else if (m.Groups["mi"].Success) end = start.AddMinutes(1).AddTicks(-1);
            else if (m.Groups["d"].Success) end = start.AddDays(1).AddTicks(-1);
            else if (m.Groups["mo"].Success) end = start.AddMonths(1).AddTicks(-1);
            else end = start.AddYears(1).AddTicks(-1);
            low = start.ToUnixTimeMilliseconds();
            high = end.ToUnixTimeMilliseconds();
            return true;
        }
        // Out-of-range parts (month 13, day 32, hour 25) make the literal invalid, not the process crash.
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    public static DateTimeOffset ToInstant(long epochMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(epochMilliseconds);

    private static int Int(Match m, string group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
}
