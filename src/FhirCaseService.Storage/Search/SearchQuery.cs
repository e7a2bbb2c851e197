using System.Globalization;
using System.Text;
using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// A parsed FHIR search over one resource type. Build it with <see cref="Parse"/> from the query string pairs; the
/// store runs it with <see cref="IResourceStore.SearchAsync"/>.
/// </summary>
public sealed class SearchQuery
{
    /// <summary>Result parameters the API applies itself (rendering, not selection); the parser accepts and skips them.</summary>
    private static readonly HashSet<string> PresentationParameters = new(StringComparer.Ordinal) { "_format", "_pretty", "_summary", "_elements" };

    private SearchQuery(string resourceType) => ResourceType = resourceType;

    public string ResourceType { get; }
    public IReadOnlyList<SearchCriterion> Criteria { get; private init; } = [];
    public IReadOnlyList<SortKey> Sort { get; private init; } = [];
    public int? Count { get; private init; }
    public TotalMode Total { get; private init; }
    public IReadOnlyList<IncludeSpec> Includes { get; private init; } = [];
    public PageCursor? Cursor { get; private init; }

    /// <summary>Parameters this store does not know (name as given): the API decides between lenient (ignore) and strict (400).</summary>
    public IReadOnlyList<string> UnknownParameters { get; private init; } = [];

    /// <summary>The pairs the query was parsed from without <c>_cursor</c>: the API adds the next/previous cursor to these for page links.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> LinkParameters { get; private init; } = [];

    /// <summary>This query on another page (same criteria, same pinned snapshot).</summary>
    public SearchQuery WithCursor(PageCursor? cursor) => new(ResourceType)
    {
        Criteria = Criteria, Sort = Sort, Count = Count, Total = Total, Includes = Includes,
        Cursor = cursor, UnknownParameters = UnknownParameters, LinkParameters = LinkParameters,
    };

    /// <summary>
    /// Parses query pairs (a repeated name gives two pairs, ANDed; commas inside a value are ORs; "\," is a literal
    /// comma). Malformed values throw one <see cref="SearchQueryException"/> listing every error; unknown parameters
    /// are collected in <see cref="UnknownParameters"/>.
    /// </summary>
    public static SearchQuery Parse(string resourceType, IEnumerable<KeyValuePair<string, string>> parameters, SearchParameterCatalog? catalog = null)
    {
        catalog ??= SearchParameterCatalog.Shared;
        if (!ModelInfo.IsKnownResource(resourceType))
            throw new SearchQueryException([$"'{resourceType}' is not a FHIR R4 resource type."]);
        var errors = new List<string>();
        var unknown = new List<string>();
        var criteria = new List<SearchCriterion>();
        var sort = new List<SortKey>();
        var includes = new List<IncludeSpec>();
        var links = new List<KeyValuePair<string, string>>();
        int? count = null;
        var total = TotalMode.None;
        PageCursor? cursor = null;

        foreach (var (name, value) in parameters)
        {
            if (name != "_cursor")
                links.Add(new KeyValuePair<string, string>(name, value));
            if (PresentationParameters.Contains(name))
                continue;
            switch (name)
            {
                case "_count":
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var c))
                        count = c;
                    else
                        errors.Add($"_count must be a non-negative whole number, not '{value}'.");
                    continue;
                case "_total":
                    if (value == "accurate") total = TotalMode.Accurate;
                    else if (value == "estimate") total = TotalMode.Estimate;
                    else if (value == "none") total = TotalMode.None;
                    else errors.Add($"_total must be none, estimate or accurate, not '{value}'.");
                    continue;
                case "_sort":
                    ParseSort(resourceType, value, catalog, sort, errors);
                    continue;
                case "_cursor":
                    if (PageCursor.TryParse(value, out var parsed))
                        cursor = parsed;
                    else
                        errors.Add($"_cursor '{value}' is not a page cursor this server issued.");
                    continue;
                case "_include" or "_include:iterate" or "_revinclude" or "_revinclude:iterate":
                    ParseInclude(resourceType, name, value, catalog, includes, errors);
                    continue;
            }
            var criterion = ParseCriterion(resourceType, name, value, catalog, errors, unknown);
            if (criterion is not null)
                criteria.Add(criterion);
        }
        if (errors.Count > 0)
            throw new SearchQueryException(errors);
        return new SearchQuery(resourceType)
        {
            Criteria = criteria, Sort = sort, Count = count, Total = total, Includes = includes,
            Cursor = cursor, UnknownParameters = unknown, LinkParameters = links,
        };
    }

    private static SearchCriterion? ParseCriterion(string type, string name, string value, SearchParameterCatalog catalog, List<string> errors, List<string> unknown)
    {
        if (name.StartsWith("_has:", StringComparison.Ordinal))
            return ParseHas(type, name, value, catalog, errors, unknown);

        var dot = name.IndexOf('.');
        var head = dot < 0 ? name : name[..dot];
        var colon = head.IndexOf(':');
        var code = colon < 0 ? head : head[..colon];
        var modifier = colon < 0 ? null : head[(colon + 1)..];
        var parameter = catalog.Find(type, code);
        if (parameter is null)
        {
            unknown.Add(name);
            return null;
        }
        if (dot >= 0)
            return ParseChain(type, parameter, modifier, name[(dot + 1)..], value, catalog, errors, unknown);
        if (modifier == "missing")
        {
            if (value is "true" or "false")
                return new ParameterCriterion(parameter, null, [], value == "true");
            errors.Add($"{name} must be true or false, not '{value}'.");
            return null;
        }
        if (parameter.Type == SearchParamType.Reference && modifier is not null && ModelInfo.IsKnownResource(modifier) && !ModifierAllowed(parameter, modifier))
        {
            errors.Add($"'{code}' of {type} cannot point at '{modifier}'.");
            return null;
        }
        if (!ModifierAllowed(parameter, modifier))
        {
            errors.Add($"The modifier ':{modifier}' is not supported on {parameter.Type.ToString().ToLowerInvariant()} parameter '{code}'.");
            return null;
        }
        var values = new List<SearchValue>();
        foreach (var raw in SplitOrValues(value))
        {
            var parsed = ParseValue(parameter, modifier, raw, name, errors);
            if (parsed is not null)
                values.Add(parsed);
        }
        if (values.Count == 0)
        {
            if (!errors.Any(e => e.Contains(name, StringComparison.Ordinal)))
                errors.Add($"Parameter '{name}' has no value.");
            return null;
        }
        return new ParameterCriterion(parameter, modifier, values);
    }

    private static bool ModifierAllowed(SearchParameterDefinition parameter, string? modifier) => modifier switch
    {
        null => true,
        "not" or "text" => parameter.Type == SearchParamType.Token,
        "exact" or "contains" => parameter.Type == SearchParamType.String,
        _ => parameter.Type == SearchParamType.Reference && ModelInfo.IsKnownResource(modifier)
             && (parameter.Targets.Count == 0 || parameter.Targets.Contains(modifier)),
    };

    private static SearchCriterion? ParseChain(string type, SearchParameterDefinition reference, string? modifier, string rest, string value,
        SearchParameterCatalog catalog, List<string> errors, List<string> unknown)
    {
        if (reference.Type != SearchParamType.Reference)
        {
            errors.Add($"'{reference.Name}' is not a reference parameter of {type}, so it cannot be chained.");
            return null;
        }
        var target = modifier;
        if (target is null)
        {
            if (reference.Targets.Count != 1)
            {
                errors.Add($"The chain on '{reference.Name}' must name the target type (e.g. {reference.Name}:Patient.{rest}): it may point at {string.Join(", ", reference.Targets)}.");
                return null;
            }
            target = reference.Targets[0];
        }
        else if (!ModelInfo.IsKnownResource(target) || reference.Targets.Count > 0 && !reference.Targets.Contains(target))
        {
            errors.Add($"'{reference.Name}' of {type} cannot point at '{target}'.");
            return null;
        }
        var inner = ParseCriterion(target, rest, value, catalog, errors, unknown);
        return inner is null ? null : new ChainCriterion(reference, target, inner);
    }

    private static SearchCriterion? ParseHas(string type, string name, string value, SearchParameterCatalog catalog, List<string> errors, List<string> unknown)
    {
        // _has:Observation:patient:code=... ; the rest after the third colon may itself be another _has.
        var parts = name.Split(':', 4);
        if (parts.Length < 4 || parts[1].Length == 0 || parts[2].Length == 0 || parts[3].Length == 0)
        {
            errors.Add($"'{name}' must have the form _has:[type]:[reference parameter]:[parameter].");
            return null;
        }
        var source = parts[1];
        if (!ModelInfo.IsKnownResource(source))
        {
            errors.Add($"'{source}' in '{name}' is not a resource type.");
            return null;
        }
        var reference = catalog.Find(source, parts[2]);
        if (reference is null || reference.Type != SearchParamType.Reference)
        {
            errors.Add($"'{parts[2]}' is not a reference parameter of {source} (in '{name}').");
            return null;
        }
        if (reference.Targets.Count > 0 && !reference.Targets.Contains(type))
        {
            errors.Add($"{source}.{parts[2]} never points at {type} (in '{name}').");
            return null;
        }
        var inner = ParseCriterion(source, parts[3], value, catalog, errors, unknown);
        return inner is null ? null : new HasCriterion(source, reference, inner);
    }

    private static SearchValue? ParseValue(SearchParameterDefinition parameter, string? modifier, string raw, string name, List<string> errors)
    {
        if (raw.Length == 0)
        {
            errors.Add($"Parameter '{name}' has an empty value.");
            return null;
        }
        switch (parameter.Type)
        {
            case SearchParamType.Token:
                if (modifier == "text")
                    return new TokenValue(null, TextNormalizer.Normalize(Unescape(raw)), false);
                var bar = IndexOfUnescaped(raw, '|');
                if (bar < 0)
                    return new TokenValue(null, Unescape(raw), false);
                var system = Unescape(raw[..bar]);
                var tokenCode = Unescape(raw[(bar + 1)..]);
                if (system.Length == 0 && tokenCode.Length == 0)
                {
                    errors.Add($"'{raw}' in '{name}' names neither a system nor a code.");
                    return null;
                }
                return new TokenValue(system.Length == 0 ? null : system, tokenCode.Length == 0 ? null : tokenCode, system.Length == 0);
            case SearchParamType.String:
                return new StringValue(modifier == "exact" ? Unescape(raw) : TextNormalizer.Normalize(Unescape(raw)));
            case SearchParamType.Date:
            {
                var (prefix, rest) = SplitPrefix(raw);
                if (FhirInstantRange.TryParse(rest, out var low, out var high))
                    return new DateValue(prefix, low, high);
                errors.Add($"'{raw}' in '{name}' is not a date (yyyy, yyyy-mm, yyyy-mm-dd or a dateTime, optionally after a prefix such as ge).");
                return null;
            }
            case SearchParamType.Number:
            case SearchParamType.Quantity:
            {
                var (prefix, rest) = SplitPrefix(raw);
                string? qSystem = null, qCode = null;
                if (parameter.Type == SearchParamType.Quantity)
                {
                    var parts = SplitUnescaped(rest, '|');
                    if (parts.Count is not (1 or 3))
                    {
                        errors.Add($"'{raw}' in '{name}' must be [prefix]number or [prefix]number|system|code.");
                        return null;
                    }
                    rest = parts[0];
                    if (parts.Count == 3)
                    {
                        qSystem = parts[1].Length == 0 ? null : parts[1];
                        qCode = parts[2].Length == 0 ? null : parts[2];
                    }
                }
                if (!decimal.TryParse(rest, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    errors.Add($"'{raw}' in '{name}' is not a number (optionally after a prefix such as gt).");
                    return null;
                }
                var half = 0.5m / Pow10(Scale(rest));
                return new NumberValue(prefix, number, number - half, number + half, qSystem, qCode);
            }
            case SearchParamType.Reference:
            {
                var text = Unescape(raw);
                var (type, id) = ReferenceParser.Split(text);
                if (type is not null)
                {
                    if (modifier is not null && modifier != type)
                    {
                        errors.Add($"'{raw}' in '{name}' names a {type}, not a {modifier}.");
                        return null;
                    }
                    return new ReferenceValue(type, id, null);
                }
                if (ResourceIds.IsValid(text))
                    return new ReferenceValue(modifier, text, null);
                if (Uri.IsWellFormedUriString(text, UriKind.Absolute))
                    return new ReferenceValue(null, null, text);
                errors.Add($"'{raw}' in '{name}' is not a reference (Type/id, id or an absolute URL).");
                return null;
            }
            case SearchParamType.Uri:
                return new UriValue(Unescape(raw));
            default:
                errors.Add($"Parameter '{name}' cannot be searched here.");
                return null;
        }
    }

    private static (SearchPrefix Prefix, string Value) SplitPrefix(string raw)
    {
        if (raw.Length > 2 && char.IsAsciiLetterLower(raw[0]) && char.IsAsciiLetterLower(raw[1]))
        {
            SearchPrefix? prefix = raw[..2] switch
            {
                "eq" => SearchPrefix.Eq, "ne" => SearchPrefix.Ne, "gt" => SearchPrefix.Gt, "lt" => SearchPrefix.Lt,
                "ge" => SearchPrefix.Ge, "le" => SearchPrefix.Le, "sa" => SearchPrefix.Sa, "eb" => SearchPrefix.Eb,
                "ap" => SearchPrefix.Ap, _ => null,
            };
            if (prefix is not null)
                return (prefix.Value, raw[2..]);
        }
        return (SearchPrefix.Eq, raw);
    }

    private static int Scale(string number)
    {
        var exponent = number.IndexOfAny(['e', 'E']);
        var mantissa = exponent < 0 ? number : number[..exponent];
        var point = mantissa.IndexOf('.');
        var digits = point < 0 ? 0 : mantissa.Length - point - 1;
        var shift = exponent < 0 ? 0 : int.Parse(number[(exponent + 1)..], CultureInfo.InvariantCulture);
        return Math.Clamp(digits - shift, 0, 20);
    }

    private static decimal Pow10(int n)
    {
        var result = 1m;
        for (var i = 0; i < n; i++)
            result *= 10;
        return result;
    }

    private static void ParseSort(string type, string value, SearchParameterCatalog catalog, List<SortKey> sort, List<string> errors)
    {
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var descending = item.StartsWith('-');
            var code = descending ? item[1..] : item;
            var parameter = catalog.Find(type, code);
            if (parameter is null || parameter.Type is SearchParamType.Reference or SearchParamType.Uri)
            {
                errors.Add($"_sort: '{code}' is not a sortable parameter of {type} (date, string, token, number or quantity).");
                continue;
            }
            sort.Add(new SortKey(parameter, descending));
        }
    }

    private static void ParseInclude(string type, string name, string value, SearchParameterCatalog catalog, List<IncludeSpec> includes, List<string> errors)
    {
        var reverse = name.StartsWith("_revinclude", StringComparison.Ordinal);
        var iterate = name.EndsWith(":iterate", StringComparison.Ordinal);
        var parts = value.Split(':');
        if (parts.Length is < 2 or > 3 || !ModelInfo.IsKnownResource(parts[0]))
        {
            errors.Add($"{name}={value} must be [source type]:[reference parameter] or [source type]:[reference parameter]:[target type].");
            return;
        }
        // Without :iterate, _include starts from the searched type and _revinclude must point back at it.
        if (!iterate && !reverse && parts[0] != type)
        {
            errors.Add($"{name}={value}: the source type must be {type} (use _include:iterate to follow included resources).");
            return;
        }
        var reference = catalog.Find(parts[0], parts[1]);
        if (reference is null || reference.Type != SearchParamType.Reference)
        {
            errors.Add($"{name}={value}: '{parts[1]}' is not a reference parameter of {parts[0]}.");
            return;
        }
        var target = parts.Length == 3 ? parts[2] : null;
        if (target is not null && !ModelInfo.IsKnownResource(target))
        {
            errors.Add($"{name}={value}: '{target}' is not a resource type.");
            return;
        }
        includes.Add(new IncludeSpec(parts[0], reference, target, iterate, reverse));
    }

    private static List<string> SplitOrValues(string value) => SplitUnescaped(value, ',');

    /// <summary>Splits on a separator not preceded by a backslash; escapes are kept for the value parser.</summary>
    private static List<string> SplitUnescaped(string value, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
                i++;
            else if (value[i] == separator)
            {
                parts.Add(value[start..i]);
                start = i + 1;
            }
        }
        parts.Add(value[start..]);
        return parts;
    }

    private static int IndexOfUnescaped(string value, char c)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\')
                i++;
            else if (value[i] == c)
                return i;
        }
        return -1;
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\'))
            return value;
        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
                i++;
            builder.Append(value[i]);
        }
        return builder.ToString();
    }
}
