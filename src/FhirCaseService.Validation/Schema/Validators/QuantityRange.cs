using System.Collections.Frozen;
using System.Globalization;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// The two ways the reference validator reads a minValue/maxValue given as a Quantity (InstanceValidator.checkQuantity,
/// checkMinMaxValueDate/DateTime): on a Quantity, a limit in the same unit or one UCUM converts to; on a date, dateTime
/// or instant, a UCUM time span counted from now (minValueDuration 100 a on birthDate: born at most 100 years ago).
/// </summary>
public static class QuantityRange
{
    public const string Ucum = "http://unitsofmeasure.org";

    /// <summary>
    /// now + <paramref name="amount"/> <paramref name="ucumTimeCode"/> (or minus, with <paramref name="subtract"/>), when
    /// the code is a UCUM time unit the reference validator counts exactly: whole years, months and milliseconds;
    /// any weeks, days, hours, minutes and seconds. Null for anything else.
    /// </summary>
    public static DateTimeOffset? RelativeToNow(DateTimeOffset now, decimal amount, string? ucumTimeCode, bool subtract)
    {
        if (amount < 0)
            return null;
        var sign = subtract ? -1 : 1;
        try
        {
            return ucumTimeCode switch
            {
                "a" when decimal.IsInteger(amount) => now.AddYears(sign * (int)amount),
                "mo" when decimal.IsInteger(amount) => now.AddMonths(sign * (int)amount),
                "ms" when decimal.IsInteger(amount) => now.AddMilliseconds(sign * (double)amount),
                "wk" => now.AddDays(sign * 7 * (double)amount),
                "d" => now.AddDays(sign * (double)amount),
                "h" => now.AddHours(sign * (double)amount),
                "min" => now.AddMinutes(sign * (double)amount),
                "s" => now.AddSeconds(sign * (double)amount),
                _ => null,
            };
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>
    /// The start of a FHIR date, dateTime or instant ("1850", "1850-01", "1850-01-01", "1850-01-01T10:00:00+01:00");
    /// values without a zone are read as UTC. Null when the text is none of these.
    /// </summary>
    public static DateTimeOffset? StartOf(string text)
    {
        var value = text.Length switch
        {
            4 => text + "-01-01",
            7 => text + "-01",
            _ => text,
        };
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var parsed)
            ? parsed
            : null;
    }

    /// <summary>
    /// <paramref name="amount"/> in <paramref name="fromCode"/> expressed in <paramref name="toCode"/>, for UCUM units
    /// of one atom with an optional metric prefix, or a quotient of two such (mg/dL, mmol/L, /min). Null when either
    /// unit is outside that set; <see cref="UcumConversion.Incommensurable"/> when both are known but measure different
    /// things (mg against mL), which the reference validator reports as a value it cannot convert.
    /// </summary>
    public static UcumConversion Convert(decimal amount, string fromCode, string toCode)
    {
        if (UcumUnit.Parse(fromCode) is not { } from || UcumUnit.Parse(toCode) is not { } to)
            return UcumConversion.Unknown;
        if (from.Dimension != to.Dimension)
            return UcumConversion.Incommensurable;
        try
        {
            // Rounded: factors such as 1/60 are not exact in decimal, and 30 /min must be 0.5 /s, not 0.5000...01.
            return UcumConversion.Converted(Math.Round(amount * from.Factor / to.Factor, 18));
        }
        catch (OverflowException)
        {
            return UcumConversion.Unknown;
        }
    }
}

public readonly record struct UcumConversion(decimal? Value, bool IsIncommensurable)
{
    public static UcumConversion Unknown { get; } = new(null, false);

    public static UcumConversion Incommensurable { get; } = new(null, true);

    public static UcumConversion Converted(decimal value) => new(value, false);
}

/// <summary>A UCUM unit reduced to a factor on its base units and a dimension signature ("g", "g/L", "/s").</summary>
internal sealed record UcumUnit(decimal Factor, string Dimension)
{
    // Base atoms and the few derived ones common in clinical data, as (factor to the base unit, dimension).
    private static readonly FrozenDictionary<string, (decimal Factor, string Dimension)> Atoms = new Dictionary<string, (decimal, string)>(StringComparer.Ordinal)
    {
        ["g"] = (1m, "M"),
        ["m"] = (1m, "L"),
        ["s"] = (1m, "T"),
        ["min"] = (60m, "T"),
        ["h"] = (3600m, "T"),
        ["d"] = (86400m, "T"),
        ["wk"] = (604800m, "T"),
        ["mo"] = (2629800m, "T"),
        ["a"] = (31557600m, "T"),
        ["L"] = (0.001m, "L3"),
        ["l"] = (0.001m, "L3"),
        ["mol"] = (1m, "N"),
        ["eq"] = (1m, "N"),
        ["Pa"] = (1m, "P"),
        ["mm[Hg]"] = (133.322m, "P"),
        ["%"] = (0.01m, "1"),
        ["1"] = (1m, "1"),
        ["[in_i]"] = (0.0254m, "L"),
        ["[ft_i]"] = (0.3048m, "L"),
        ["[lb_av]"] = (453.59237m, "M"),
        ["[oz_av]"] = (28.349523125m, "M"),
        ["U"] = (1m, "U"),
        ["[iU]"] = (1m, "IU"),
        ["[IU]"] = (1m, "IU"),
        ["cal"] = (4.184m, "E"),
        ["J"] = (1m, "E"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Time units other than the second and the customary units take no metric prefix.
    private static readonly FrozenSet<string> Unprefixed = new[] { "min", "h", "d", "wk", "mo", "a", "%", "1", "mm[Hg]" }
        .Concat(Atoms.Keys.Where(k => k.StartsWith('[')))
        .ToFrozenSet(StringComparer.Ordinal);

    private static readonly (string Prefix, decimal Factor)[] Prefixes =
    [
        ("da", 10m), ("k", 1000m), ("M", 1_000_000m), ("G", 1_000_000_000m), ("h", 100m),
        ("d", 0.1m), ("c", 0.01m), ("m", 0.001m), ("u", 0.000001m), ("n", 0.000000001m), ("p", 0.000000000001m),
    ];

    public static UcumUnit? Parse(string code)
    {
        if (code.Contains('{', StringComparison.Ordinal))
            code = StripAnnotations(code);
        var slash = code.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
            return Term(code);
        if (code.IndexOf('/', slash + 1) >= 0)
            return null;
        var numerator = slash == 0 ? new UcumUnit(1m, "") : Term(code[..slash]);
        var denominator = Term(code[(slash + 1)..]);
        return numerator is null || denominator is null
            ? null
            : new UcumUnit(numerator.Factor / denominator.Factor, $"{numerator.Dimension}/{denominator.Dimension}");
    }

    private static UcumUnit? Term(string code)
    {
        if (code.Length == 0)
            return new UcumUnit(1m, "1");
        // An atom's own name wins over a prefix reading: "mol" is not milli-"ol", "min" not milli-"in".
        if (Atoms.TryGetValue(code, out var atom))
            return new UcumUnit(atom.Factor, atom.Dimension);
        foreach (var (prefix, factor) in Prefixes)
        {
            if (code.Length > prefix.Length && code.StartsWith(prefix, StringComparison.Ordinal)
                && code[prefix.Length..] is var rest && !Unprefixed.Contains(rest) && Atoms.TryGetValue(rest, out var prefixed))
                return new UcumUnit(factor * prefixed.Factor, prefixed.Dimension);
        }
        return null;
    }

    private static string StripAnnotations(string code)
    {
        var text = new System.Text.StringBuilder(code.Length);
        var depth = 0;
        foreach (var c in code)
        {
            if (c == '{')
                depth++;
            else if (c == '}')
                depth--;
            else if (depth == 0)
                text.Append(c);
        }
        return text.ToString();
    }
}
