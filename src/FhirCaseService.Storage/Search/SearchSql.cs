using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// Turns search criteria into SQL conditions over a resource_version alias. Every condition reads the typed index
/// tables through their indexes (EXISTS on version_key + param); no condition ever looks into the stored JSON.
/// </summary>
internal sealed class SearchSql(SqlText sql)
{
    private int _aliases;

    /// <summary>
    /// Versions visible in a snapshot: committed at or before it, not yet superseded at it, not deletions.
    /// Null snapshot: the current versions (inside a write transaction, which sees its own writes).
    /// </summary>
    public string Visible(string alias, long? snapshot) => snapshot is null
        ? $"{alias}.superseded_seq IS NULL AND {alias}.is_deleted = 0"
        : $"{alias}.change_seq <= {sql.P(snapshot.Value)} AND ({alias}.superseded_seq IS NULL OR {alias}.superseded_seq > {sql.P(snapshot.Value)}) AND {alias}.is_deleted = 0";

    public string Condition(SearchCriterion criterion, string alias, string resourceType, long? snapshot) => criterion switch
    {
        ParameterCriterion p => Parameter(p, alias, resourceType),
        ChainCriterion c => Chain(c, alias, resourceType, snapshot),
        HasCriterion h => Has(h, alias, resourceType, snapshot),
        _ => throw new InvalidOperationException("Unknown criterion " + criterion.GetType().Name),
    };

    private string Chain(ChainCriterion chain, string alias, string resourceType, long? snapshot)
    {
        var r = NextAlias("r");
        var b = NextAlias("b");
        return $"{alias}.version_key IN (SELECT {r}.version_key FROM idx_reference {r} WHERE {r}.resource_type = {sql.P(resourceType)} AND {r}.param = {sql.P(chain.Reference.Name)} " +
               $"AND {r}.target_type = {sql.P(chain.TargetType)} AND {r}.target_id IN (SELECT {b}.resource_id FROM resource_version {b} " +
               $"WHERE {b}.resource_type = {sql.P(chain.TargetType)} AND {Visible(b, snapshot)} AND {Condition(chain.Inner, b, chain.TargetType, snapshot)}))";
    }

    private string Has(HasCriterion has, string alias, string resourceType, long? snapshot)
    {
        var r = NextAlias("r");
        var b = NextAlias("b");
        return $"{alias}.resource_id IN (SELECT {r}.target_id FROM idx_reference {r} JOIN resource_version {b} ON {b}.version_key = {r}.version_key " +
               $"WHERE {r}.resource_type = {sql.P(has.SourceType)} AND {r}.param = {sql.P(has.Reference.Name)} AND {r}.target_type = {sql.P(resourceType)} " +
               $"AND {Visible(b, snapshot)} AND {Condition(has.Inner, b, has.SourceType, snapshot)})";
    }

    private string Parameter(ParameterCriterion criterion, string alias, string resourceType)
    {
        var parameter = criterion.Parameter;
        if (parameter.IsVersionColumn)
            return VersionColumn(criterion, alias);
        var table = TableOf(parameter.Type);
        var i = NextAlias("i");
        if (criterion.Missing is { } missing)
        {
            var any = $"EXISTS (SELECT 1 FROM {table} {i} WHERE {i}.version_key = {alias}.version_key AND {i}.param = {sql.P(parameter.Name)})";
            return missing ? "NOT " + any : any;
        }
        var values = string.Join(" OR ", criterion.Values.Select(v => "(" + ValueMatch(parameter, criterion.Modifier, v, i) + ")"));
        // Driven from the index table (its search index narrows to the matching rows first), then joined to the
        // version rows by key; :not keeps the versions with no matching row, including those without the element.
        var matching = $"SELECT {i}.version_key FROM {table} {i} WHERE {i}.resource_type = {sql.P(resourceType)} AND {i}.param = {sql.P(parameter.Name)} AND ({values})";
        return criterion.Modifier == "not"
            ? $"{alias}.version_key NOT IN ({matching})"
            : $"{alias}.version_key IN ({matching})";
    }

    private string VersionColumn(ParameterCriterion criterion, string alias)
    {
        if (criterion.Parameter.Name == "_id")
        {
            if (criterion.Missing is { } missing)
                return missing ? "1 = 0" : "1 = 1";
            var ids = criterion.Values.OfType<TokenValue>().Select(t => sql.P(t.Code ?? "")).ToList();
            var list = $"{alias}.resource_id IN ({string.Join(", ", ids)})";
            return criterion.Modifier == "not" ? "NOT " + list : list;
        }
        if (criterion.Missing is { } missingUpdated)
            return missingUpdated ? "1 = 0" : "1 = 1";
        var column = alias + ".last_updated_ms";
        return string.Join(" OR ", criterion.Values.OfType<DateValue>().Select(d => "(" + DateMatch(d, column, column) + ")"));
    }

    private string ValueMatch(SearchParameterDefinition parameter, string? modifier, SearchValue value, string i) => value switch
    {
        TokenValue t when modifier == "text" => $"{i}.text_norm LIKE {sql.P("%" + SqlText.EscapeLike(t.Code ?? "") + "%")} ESCAPE '\\'",
        TokenValue t => Token(t, i),
        StringValue s => modifier switch
        {
            "exact" => $"{i}.value_exact = {sql.P(s.Text)}",
            "contains" => $"{i}.value_norm LIKE {sql.P("%" + SqlText.EscapeLike(s.Text) + "%")} ESCAPE '\\'",
            // "Starts with" as a range, so both engines use the (resource_type, param, value_norm) index.
            _ => $"{i}.value_norm >= {sql.P(s.Text)} AND {i}.value_norm < {sql.P(s.Text + char.MaxValue)}",
        },
        DateValue d => DateMatch(d, i + ".low_ms", i + ".high_ms"),
        NumberValue n => Number(n, i),
        ReferenceValue r => Reference(r, modifier, i),
        UriValue u => $"{i}.uri = {sql.P(u.Uri)}",
        _ => throw new InvalidOperationException($"A {value.GetType().Name} cannot match a {parameter.Type} parameter."),
    };

    private string Token(TokenValue t, string i)
    {
        var parts = new List<string>();
        if (t.Code is not null)
            parts.Add($"{i}.code = {sql.P(t.Code)}");
        if (t.System is not null)
            parts.Add($"{i}.system = {sql.P(t.System)}");
        else if (t.NoSystem)
            parts.Add($"{i}.system IS NULL");
        return string.Join(" AND ", parts);
    }

    private string Reference(ReferenceValue r, string? typeModifier, string i)
    {
        if (r.Url is not null)
            return $"{i}.url = {sql.P(r.Url)}";
        var type = r.Type ?? typeModifier;
        var id = $"{i}.target_id = {sql.P(r.Id)}";
        return type is null ? id : $"{i}.target_type = {sql.P(type)} AND {id}";
    }

    /// <summary>
    /// The FHIR date prefixes over the indexed span [low, high] and the searched span [ql, qh] (both inclusive):
    /// eq: within; ne: not within; gt/lt: some part after/before; ge/le: gt or overlapping the start/end; sa/eb: wholly
    /// after/before; ap: overlapping the searched span widened by 10% of its distance from now (at least a day).
    /// </summary>
    private string DateMatch(DateValue d, string low, string high)
    {
        var ql = d.Low;
        var qh = d.High;
        return d.Prefix switch
        {
            SearchPrefix.Eq => $"{low} >= {sql.P(ql)} AND {high} <= {sql.P(qh)}",
            SearchPrefix.Ne => $"NOT ({low} >= {sql.P(ql)} AND {high} <= {sql.P(qh)})",
            SearchPrefix.Gt => $"{high} > {sql.P(qh)}",
            SearchPrefix.Lt => $"{low} < {sql.P(ql)}",
            SearchPrefix.Ge => $"{high} >= {sql.P(ql)}",
            SearchPrefix.Le => $"{low} <= {sql.P(qh)}",
            SearchPrefix.Sa => $"{low} > {sql.P(qh)}",
            SearchPrefix.Eb => $"{high} < {sql.P(ql)}",
            SearchPrefix.Ap => Approximately(ql, qh, low, high),
            _ => throw new InvalidOperationException("Unknown prefix " + d.Prefix),
        };
    }

    private string Approximately(long ql, long qh, string low, string high)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var widen = Math.Max(TimeSpan.FromDays(1).Ticks / TimeSpan.TicksPerMillisecond, Math.Abs(now - ql) / 10);
        return $"{low} <= {sql.P(Math.Min(qh + widen, FhirInstantRange.MaxValue))} AND {high} >= {sql.P(Math.Max(ql - widen, FhirInstantRange.MinValue))}";
    }

    /// <summary>Numbers and quantities: eq/ne use the precision range of the searched value; ap is within 10%.</summary>
    private string Number(NumberValue n, string i)
    {
        var value = i + ".value";
        var match = n.Prefix switch
        {
            SearchPrefix.Eq => $"{value} >= {sql.P(n.Low)} AND {value} < {sql.P(n.High)}",
            SearchPrefix.Ne => $"NOT ({value} >= {sql.P(n.Low)} AND {value} < {sql.P(n.High)})",
            SearchPrefix.Gt or SearchPrefix.Sa => $"{value} > {sql.P(n.Value)}",
            SearchPrefix.Lt or SearchPrefix.Eb => $"{value} < {sql.P(n.Value)}",
            SearchPrefix.Ge => $"{value} >= {sql.P(n.Value)}",
            SearchPrefix.Le => $"{value} <= {sql.P(n.Value)}",
            SearchPrefix.Ap => $"{value} >= {sql.P(Math.Min(n.Value * 0.9m, n.Value * 1.1m))} AND {value} <= {sql.P(Math.Max(n.Value * 0.9m, n.Value * 1.1m))}",
            _ => throw new InvalidOperationException("Unknown prefix " + n.Prefix),
        };
        if (n.System is not null)
            match += $" AND {i}.system = {sql.P(n.System)}";
        if (n.Code is not null)
            match += $" AND {i}.code = {sql.P(n.Code)}";
        return match;
    }

    /// <summary>The sort value of one key: the smallest value ascending, the largest descending (FHIR's rule for repeats).</summary>
    public string SortExpression(SortKey key, string alias)
    {
        var parameter = key.Parameter;
        if (parameter.Name == "_id")
            return alias + ".resource_id";
        if (parameter.Name == "_lastUpdated")
            return alias + ".last_updated_ms";
        var column = parameter.Type switch
        {
            SearchParamType.Date => key.Descending ? "high_ms" : "low_ms",
            SearchParamType.String => "value_norm",
            SearchParamType.Token => "code",
            _ => "value",
        };
        var i = NextAlias("s");
        return $"(SELECT {(key.Descending ? "MAX" : "MIN")}({i}.{column}) FROM {TableOf(parameter.Type)} {i} WHERE {i}.version_key = {alias}.version_key AND {i}.param = {sql.P(parameter.Name)})";
    }

    public static string TableOf(SearchParamType type) => type switch
    {
        SearchParamType.Token => "idx_token",
        SearchParamType.String => "idx_string",
        SearchParamType.Date => "idx_date",
        SearchParamType.Reference => "idx_reference",
        SearchParamType.Quantity => "idx_quantity",
        SearchParamType.Number => "idx_number",
        SearchParamType.Uri => "idx_uri",
        _ => throw new InvalidOperationException($"{type} parameters are not indexed."),
    };

    private string NextAlias(string prefix) => prefix + (++_aliases).ToString(CultureInfo.InvariantCulture);
}
