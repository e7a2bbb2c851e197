using System.Globalization;
using System.Text.RegularExpressions;
using FhirCaseService.Api.Http;
using FhirCaseService.Storage.Audit;
using Microsoft.Extensions.Primitives;

namespace FhirCaseService.Api.Audit;

/// <summary>
/// The parameters of <c>GET /AuditEvent</c>, checked strictly (a misspelt criterion on an audit search would silently
/// widen it): each known parameter once (date twice for a range), one value each; anything else is a 400.
/// </summary>
internal static partial class AuditEventSearch
{
    public const string CursorParameter = "_cursor";
    public const int DefaultCount = 50;
    public const int MaxCount = 1000;

    /// <summary>The search parameters, with their R4 definitions, as the CapabilityStatement lists them.</summary>
    public static readonly IReadOnlyList<(string Name, Hl7.Fhir.Model.SearchParamType Type)> Parameters =
    [
        ("date", Hl7.Fhir.Model.SearchParamType.Date),
        ("agent", Hl7.Fhir.Model.SearchParamType.Reference),
        ("entity", Hl7.Fhir.Model.SearchParamType.Reference),
        ("entity-type", Hl7.Fhir.Model.SearchParamType.Token),
        ("action", Hl7.Fhir.Model.SearchParamType.Token),
        ("subtype", Hl7.Fhir.Model.SearchParamType.Token),
        ("outcome", Hl7.Fhir.Model.SearchParamType.Token),
    ];

    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "_format", "_pretty" };
    private static readonly HashSet<string> Actions = new(StringComparer.Ordinal) { "C", "R", "U", "D", "E" };
    private static readonly HashSet<string> Outcomes = new(StringComparer.Ordinal) { "0", "4", "8", "12" };

    public static AuditQuery Parse(IQueryCollection query)
    {
        var result = new AuditQuery(Count: DefaultCount);
        foreach (var (name, values) in query)
        {
            if (Ignored.Contains(name))
                continue;
            if (name == "date")
            {
                foreach (var value in values)
                    result = WithDate(result, value ?? "");
                continue;
            }
            var single = Single(name, values);
            result = name switch
            {
                "agent" or "agent:identifier" => result with { ClientId = TokenCode(single) },
                "entity" => WithEntity(result, single),
                "entity-type" => result with { EntityType = TokenCode(single) },
                "action" => result with { Action = OneOf(name, single, Actions) },
                "subtype" => result with { Subtype = TokenCode(single) },
                "outcome" => result with { Outcome = OneOf(name, TokenCode(single), Outcomes) },
                "_count" => result with { Count = Count(single) },
                CursorParameter => result with { BeforeSequence = Cursor(single) },
                _ => throw FhirRequestException.BadRequest(
                    $"AuditEvent search does not support the parameter '{name}'. Supported: {string.Join(", ", Parameters.Select(p => p.Name))}, _count.", name),
            };
        }
        return result;
    }

    private static string Single(string name, StringValues values)
    {
        if (values.Count != 1)
            throw FhirRequestException.BadRequest($"'{name}' may be given once on an AuditEvent search.", name);
        var value = values[0] ?? "";
        if (value.Length == 0)
            throw FhirRequestException.BadRequest($"'{name}' has no value.", name);
        if (value.Contains(',', StringComparison.Ordinal) && name != CursorParameter)
            throw FhirRequestException.BadRequest($"'{name}' takes one value on an AuditEvent search, not a list.", name);
        return value;
    }

    /// <summary>"system|code" or "code": the code (each token here has one system, so the system adds nothing).</summary>
    private static string TokenCode(string value) => value[(value.IndexOf('|', StringComparison.Ordinal) + 1)..];

    private static string OneOf(string name, string value, HashSet<string> allowed) =>
        allowed.Contains(value) ? value : throw FhirRequestException.BadRequest($"'{name}' is one of {string.Join(", ", allowed)}; '{value}' is not.", name);

    private static AuditQuery WithEntity(AuditQuery query, string value)
    {
        var parts = value.Split('/');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw FhirRequestException.BadRequest($"'entity' takes a reference Type/id; '{value}' is not one.", "entity");
        return query with { EntityType = parts[0], EntityId = parts[1] };
    }

    private static int Count(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= MaxCount
            ? count
            : throw FhirRequestException.BadRequest($"'_count' is a whole number from 1 to {MaxCount}; '{value}' is not.", "_count");

    private static long Cursor(string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor)
            ? cursor
            : throw FhirRequestException.BadRequest($"'{CursorParameter}' is not a cursor this server gave out; follow the Bundle's next link.", CursorParameter);

    /// <summary>
    /// A date with a prefix narrows [from, to): eq the value's whole period (its precision: a day, a second...), ge/gt
    /// from its start/end, le/lt up to its end/start. Several date parameters combine to their intersection.
    /// </summary>
    private static AuditQuery WithDate(AuditQuery query, string text)
    {
        var prefixed = text.Length > 2 && char.IsAsciiLetterLower(text[0]) && char.IsAsciiLetterLower(text[1]);
        var prefix = prefixed ? text[..2] : "eq";
        var value = prefixed ? text[2..] : text;
        if (!TryParsePeriod(value, out var start, out var end))
            throw FhirRequestException.BadRequest($"'date' takes a FHIR date or dateTime (e.g. 2026-03-01 or 2026-03-01T12:00:00Z) with an optional prefix; '{text}' is not one.", "date");
        DateTimeOffset? from = null, to = null;
        switch (prefix)
        {
            case "eq": (from, to) = (start, end); break;
            case "ge": from = start; break;
            case "gt": from = end; break;
            case "le": to = end; break;
            case "lt": to = start; break;
            default:
                throw FhirRequestException.BadRequest($"'date' supports the prefixes eq, ge, gt, le and lt; not '{prefix}'.", "date");
        }
        return query with
        {
            RecordedFrom = from is { } f && (query.RecordedFrom is not { } qf || f > qf) ? f : query.RecordedFrom,
            RecordedTo = to is { } t && (query.RecordedTo is not { } qt || t < qt) ? t : query.RecordedTo,
        };
    }

    [GeneratedRegex(@"^(?<y>\d{4})(-(?<mo>\d{2})(-(?<d>\d{2})(T(?<h>\d{2}):(?<mi>\d{2})(:(?<s>\d{2})(\.(?<f>\d{1,7}))?)?(?<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$")]
    private static partial Regex DatePattern();

    /// <summary>The period a FHIR date/dateTime stands for: [start, end) at its precision; without a zone, UTC.</summary>
    private static bool TryParsePeriod(string text, out DateTimeOffset start, out DateTimeOffset end)
    {
        start = end = default;
        var match = DatePattern().Match(text);
        if (!match.Success)
            return false;
        int Part(string group, int fallback) => match.Groups[group].Success ? int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : fallback;
        try
        {
            var zone = match.Groups["tz"].Value;
            var offset = zone.Length > 1
                ? TimeSpan.ParseExact(zone[1..], @"hh\:mm", CultureInfo.InvariantCulture) * (zone[0] == '-' ? -1 : 1)
                : TimeSpan.Zero;
            start = new DateTimeOffset(Part("y", 1), Part("mo", 1), Part("d", 1), Part("h", 0), Part("mi", 0), Part("s", 0), offset);
            if (match.Groups["f"].Success)
                start = start.AddTicks(long.Parse(match.Groups["f"].Value.PadRight(7, '0'), CultureInfo.InvariantCulture));
            end = match.Groups["f"].Success ? start.AddMilliseconds(1)
                : match.Groups["s"].Success ? start.AddSeconds(1)
                : match.Groups["mi"].Success ? start.AddMinutes(1)
                : match.Groups["d"].Success ? start.AddDays(1)
                : match.Groups["mo"].Success ? start.AddMonths(1)
                : start.AddYears(1);
            return true;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or FormatException or OverflowException)
        {
            return false;
        }
    }
}
