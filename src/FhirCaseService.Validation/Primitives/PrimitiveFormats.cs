using System.Globalization;
using System.Text.RegularExpressions;

namespace FhirCaseService.Validation.Primitives;

/// <summary>
/// The lexical rules of the R4 primitive types (regexes from the R4 specification's datatypes page, plus the
/// ranges and calendar checks a regex cannot express). One table, used for text and SDK-object input alike.
/// </summary>
public static partial class PrimitiveFormats
{
    private const string Year = "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
    private const string Month = "(0[1-9]|1[0-2])";
    private const string Day = "(0[1-9]|[1-2][0-9]|3[0-1])";
    private const string Clock = "([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?";
    private const string Zone = "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";

    // The specification's regexes are Java regexes, where \s is only space, tab, line feed, vertical tab, form feed and
    // carriage return; .NET's \s also matches Unicode spaces (no-break space U+00A0, narrow no-break space U+202F), which
    // would make 'Acme\u202fHealthcare' no valid string. These classes are the Java meaning, written out.
    private const string NotJavaSpace = "\\x00-\\x08\\x0E-\\x1F\\x21-\\uFFFF";
    private const string NotJavaSpaceClass = "[" + NotJavaSpace + "]";

    private static readonly Dictionary<string, Regex> Patterns = new(StringComparer.Ordinal)
    {
        ["boolean"] = BooleanFormat(),
        ["integer"] = IntegerFormat(),
        ["unsignedInt"] = UnsignedIntFormat(),
        ["positiveInt"] = PositiveIntFormat(),
        ["decimal"] = DecimalFormat(),
        ["string"] = StringFormat(),
        ["markdown"] = MarkdownFormat(),
        ["code"] = CodeFormat(),
        ["id"] = IdFormat(),
        ["uri"] = UriFormat(),
        ["url"] = UrlFormat(),
        ["canonical"] = CanonicalFormat(),
        ["oid"] = OidFormat(),
        ["uuid"] = UuidFormat(),
        ["base64Binary"] = Base64BinaryFormat(),
        ["date"] = DateFormat(),
        ["dateTime"] = DateTimeFormat(),
        ["instant"] = InstantFormat(),
        ["time"] = TimeFormat(),
    };

    // Source-generated, anchored, culture-invariant, 1 s timeout: compiled Regex objects emitted dynamic methods at
    // start-up, which showed in the CLI cold start (issue 13).
    [GeneratedRegex("^(true|false)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex BooleanFormat();

    [GeneratedRegex("^(-?([0]|([1-9][0-9]*)))$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex IntegerFormat();

    [GeneratedRegex("^([0]|([1-9][0-9]*))$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UnsignedIntFormat();

    [GeneratedRegex("^(\\+?[1-9][0-9]*)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex PositiveIntFormat();

    [GeneratedRegex("^(-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DecimalFormat();

    [GeneratedRegex("^([ \\r\\n\\t" + NotJavaSpace + "]+)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex StringFormat();

    [GeneratedRegex("^([ \\r\\n\\t" + NotJavaSpace + "]+)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MarkdownFormat();

    [GeneratedRegex("^(" + NotJavaSpaceClass + "+( " + NotJavaSpaceClass + "+)*)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CodeFormat();

    [GeneratedRegex("^([A-Za-z0-9\\-\\.]{1,64})$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex IdFormat();

    [GeneratedRegex("^(" + NotJavaSpaceClass + "*)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UriFormat();

    [GeneratedRegex("^(" + NotJavaSpaceClass + "*)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UrlFormat();

    [GeneratedRegex("^(" + NotJavaSpaceClass + "*)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CanonicalFormat();

    [GeneratedRegex("^(urn:oid:[0-2](\\.(0|[1-9][0-9]*))+)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex OidFormat();

    [GeneratedRegex("^(urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex UuidFormat();

    [GeneratedRegex("^((\\s*([0-9a-zA-Z\\+/=]){4}\\s*)+)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex Base64BinaryFormat();

    [GeneratedRegex($"^({Year}(-{Month}(-{Day})?)?)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DateFormat();

    [GeneratedRegex($"^({Year}(-{Month}(-{Day}(T{Clock}{Zone})?)?)?)$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex DateTimeFormat();

    [GeneratedRegex($"^({Year}-{Month}-{Day}T{Clock}{Zone})$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex InstantFormat();

    [GeneratedRegex("^(" + Clock + ")$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TimeFormat();

    public static bool IsPrimitive(string typeName) => Patterns.ContainsKey(typeName) || typeName == "xhtml";

    /// <summary>Null when <paramref name="literal"/> is a valid <paramref name="typeName"/>; otherwise why not, in words a data manager can act on.</summary>
    public static string? Check(string typeName, string literal)
    {
        if (!Patterns.TryGetValue(typeName, out var pattern))
            return null;
        if (literal.Length == 0)
            return $"A {typeName} value cannot be empty: remove the element or give it a value.";
        if (!pattern.IsMatch(literal))
            return $"'{Shorten(literal)}' is not a valid {typeName}{FormatHint(typeName)}.";
        if (typeName is "uri" or "url" or "canonical" && UriProblem(typeName, literal) is { } uriProblem)
            return uriProblem;
        return typeName switch
        {
            "integer" or "unsignedInt" or "positiveInt" when !int.TryParse(literal, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                => $"'{Shorten(literal)}' is outside the range of a {typeName} (32-bit signed).",
            "date" or "dateTime" or "instant" when !IsRealCalendarDate(literal)
                => $"'{literal}' is not a calendar date (the day does not exist in that month).",
            "string" or "markdown" when literal.Length > 1_048_576
                => $"A {typeName} may hold at most 1 MB of characters.",
            _ => null,
        };
    }

    /// <summary>
    /// The reference validator's checks of a uri, url or canonical beyond "no whitespace": no bare oid: or uuid: scheme;
    /// after urn:uuid: a lower-case UUID (a #fragment, and a canonical's |version, set aside); after urn:oid: dotted
    /// numbers with a root of at least two arcs, as registered OIDs have. Its newer rule that a canonical be absolute is
    /// not applied: the R4 specification's own examples use relative canonicals ("Library/zika-virus-intervention-logic")
    /// 94 times, which R4 allowed.
    /// </summary>
    private static string? UriProblem(string typeName, string literal)
    {
        if (literal.StartsWith("oid:", StringComparison.Ordinal) || literal.StartsWith("uuid:", StringComparison.Ordinal))
            return $"'{Shorten(literal)}' is not a valid {typeName}: an OID or UUID is written with the urn: prefix (urn:oid:..., urn:uuid:...).";
        if (literal.StartsWith("urn:uuid:", StringComparison.Ordinal)
            && !LowerCaseUuid().IsMatch(WithoutSuffixes(literal.AsSpan("urn:uuid:".Length), typeName, withFragment: true)))
            return $"'{Shorten(literal)}' is not a valid {typeName}: after urn:uuid: comes a UUID in lower case.";
        if (literal.StartsWith("urn:oid:", StringComparison.Ordinal))
        {
            var oid = WithoutSuffixes(literal.AsSpan("urn:oid:".Length), typeName, withFragment: false);
            if (!OidArcs().IsMatch(oid) || oid.LastIndexOf('.') < 4 && !oid.StartsWith("1.3", StringComparison.Ordinal))
                return $"'{Shorten(literal)}' is not a valid {typeName}: after urn:oid: comes an OID (dotted numbers, e.g. 2.16.840.1.113883).";
        }
        return null;
    }

    /// <summary>The part of a urn before its fragment (with <paramref name="withFragment"/>) and, in a canonical, before its |version.</summary>
    private static ReadOnlySpan<char> WithoutSuffixes(ReadOnlySpan<char> value, string typeName, bool withFragment)
    {
        if (withFragment && value.IndexOf('#') is >= 0 and var at)
            value = value[..at];
        if (typeName == "canonical" && value.IndexOf('|') is >= 0 and var bar)
            value = value[..bar];
        return value;
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex LowerCaseUuid();

    [GeneratedRegex("^[0-2](\\.(0|[1-9][0-9]*))+$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex OidArcs();


    private static string FormatHint(string typeName) => typeName switch
    {
        "date" => " (expected YYYY, YYYY-MM or YYYY-MM-DD)",
        "dateTime" => " (expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)",
        "instant" => " (expected YYYY-MM-DDThh:mm:ss(.sss) with a time zone, e.g. Z)",
        "time" => " (expected hh:mm:ss)",
        "id" => " (1 to 64 characters: letters, digits, '-' and '.')",
        "code" => " (no leading, trailing or repeated whitespace)",
        "uri" or "url" or "canonical" => " (no whitespace)",
        "positiveInt" => " (a whole number of 1 or more)",
        "unsignedInt" => " (a whole number of 0 or more)",
        "integer" => " (a whole number)",
        "uuid" => " (expected urn:uuid: followed by a lower-case UUID)",
        "oid" => " (expected urn:oid: followed by dotted numbers)",
        _ => "",
    };

    private static bool IsRealCalendarDate(string literal)
    {
        if (literal.Length < 10)
            return true;
        return DateOnly.TryParseExact(literal[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);
    }

    private static string Shorten(string literal) => literal.Length <= 60 ? literal : literal[..57] + "...";
}
