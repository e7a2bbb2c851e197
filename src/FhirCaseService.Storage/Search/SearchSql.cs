using System.Globalization;
using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// Turns search criteria into SQL conditions over a resource_version alias. Every condition reads the typed index
/// tables through their indexes (EXISTS on version_key + param); no condition ever looks into the stored JSON.
/// </summary>
/// <summary>How <see cref="SearchSql.Matching"/> runs a query, chosen from the criteria's index row counts (SearchExecutor.PlanAsync).</summary>
/// <remarks>
/// <paramref name="PerRow"/>: every criterion is checked per candidate row in the walk's order even on PostgreSQL
/// (<see cref="SqlDialect.PerRowFence"/>), so a capped count stops at the cap instead of first reading all of a
/// broad criterion's index rows.
/// </remarks>
internal sealed record SearchPlan(SearchCriterion? Driver, bool CorrelatedHas, bool PerRow = false);

internal sealed class SearchSql(SqlText sql)
{
    private int _aliases;

    /// <summary>
    /// Versions visible in a snapshot: committed at or before it, not yet superseded at it, not deletions.
    /// Null snapshot: the current versions (inside a write transaction, which sees its own writes).
    /// </summary>
    public string Visible(string alias, long? snapshot, bool unindexed = false)
    {
        var changeSeq = unindexed ? sql.Unindexed(alias + ".change_seq") : alias + ".change_seq";
        return snapshot is null
            ? $"{alias}.superseded_seq IS NULL AND {alias}.is_deleted = 0"
            : $"{changeSeq} <= {sql.P(snapshot.Value)} AND ({alias}.superseded_seq IS NULL OR {alias}.superseded_seq > {sql.P(snapshot.Value)}) AND {alias}.is_deleted = 0";
    }

    /// <summary>
    /// The versions of <paramref name="resourceType"/> visible at <paramref name="snapshot"/> that meet every criterion.
    /// One criterion drives the query (an IN over the index table, whose search index finds the few matching rows);
    /// the others are checked per candidate through the (version_key, param) index. Without this, an engine lacking
    /// statistics (SQLite) would walk every version of the type and test each one.
    /// </summary>
    /// <param name="plan">
    /// the executor's choice by selectivity (<see cref="SearchPlan"/>): which criterion drives (null: none, the type is
    /// walked and every criterion checked per row) and whether _has is checked per row; null: <see cref="Driver"/>'s rank.
    /// </param>
    public string Matching(string alias, string resourceType, long? snapshot, IReadOnlyList<SearchCriterion> criteria, SearchPlan? plan = null)
    {
        var driver = plan is null ? Driver(criteria) : plan.Driver;
        var correlatedHas = plan?.CorrelatedHas ?? false;
        var perRow = plan?.PerRow ?? false;
        // Keep the engine off the (resource_type, ...) indexes when an index table drives; _id drives through them.
        var unindexed = driver is not null && driver is not ParameterCriterion { Parameter.Name: "_id" };
        var type = unindexed ? sql.Unindexed(alias + ".resource_type") : alias + ".resource_type";
        var parts = new List<string> { $"{type} = {sql.P(resourceType)}", Visible(alias, snapshot, unindexed) };
        parts.AddRange(criteria.Select(c => "(" + Condition(c, alias, resourceType, snapshot, ReferenceEquals(c, driver), correlatedHas, perRow) + ")"));
        return string.Join(" AND ", parts);
    }

    /// <summary>
    /// The criteria alone, each checked per row through the (version_key, param) indexes, for a query that is driven by
    /// something else (an export's keyset scan in version_key order, a walk in sort order) and states type and visibility
    /// itself. Chains and _has look at their targets as visible at <paramref name="snapshot"/>. No criteria: always true.
    /// <paramref name="perRow"/> is for a walk, which stops after its page: a _has is asked per candidate instead of
    /// first collecting every target of every matching source (a walk runs a _has only when the inner criterion is
    /// broad), and every index criterion is fenced (<see cref="SqlDialect.PerRowFence"/>) so PostgreSQL cannot pull it
    /// up into a semi join and drive the walk from the criterion's rows instead (a plan that statistics decide, and that
    /// then probes the sort index once per matching row: docs/performance.md, helper pgsearch, session 7).
    /// </summary>
    public string Criteria(string alias, string resourceType, long snapshot, IReadOnlyList<SearchCriterion> criteria, bool perRow = false) =>
        criteria.Count == 0
            ? "1 = 1"
            : string.Join(" AND ", criteria.Select(c => "(" + Condition(c, alias, resourceType, snapshot, driving: false, correlatedHas: perRow, perRow: perRow) + ")"));

    internal static bool IsDriver(SearchCriterion criterion) => criterion switch
    {
        ChainCriterion => true,
        ParameterCriterion { Missing: null, Modifier: not "not" } p => p.Parameter.Name != "_lastUpdated",
        _ => false,
    };

    /// <summary>Which kind of criterion usually selects fewest rows: ids, then references (a patient's), then codes and names.</summary>
    internal static int DriverRank(SearchCriterion criterion) => criterion switch
    {
        ParameterCriterion { Parameter.Name: "_id" } => 0,
        ChainCriterion => 1,
        ParameterCriterion { Parameter.Type: SearchParamType.Reference } => 1,
        ParameterCriterion { Parameter.Type: SearchParamType.Token or SearchParamType.String or SearchParamType.Uri } => 2,
        _ => 3,
    };

    private string Condition(SearchCriterion criterion, string alias, string resourceType, long? snapshot, bool driving, bool correlatedHas = false, bool perRow = false) => criterion switch
    {
        ParameterCriterion p => Parameter(p, alias, resourceType, driving, perRow),
        ChainCriterion c => Chain(c, alias, resourceType, snapshot, driving),
        HasCriterion h when correlatedHas => HasPerRow(h, alias, resourceType, snapshot),
        HasCriterion h => Has(h, alias, resourceType, snapshot),
        _ => throw new InvalidOperationException("Unknown criterion " + criterion.GetType().Name),
    };

    private string Chain(ChainCriterion chain, string alias, string resourceType, long? snapshot, bool driving)
    {
        var r = NextAlias("r");
        var b = NextAlias("b");
        var targets = $"{r}.param = {sql.P(chain.Reference.Name)} AND {r}.target_type = {sql.P(chain.TargetType)} AND {r}.target_id IN " +
                      $"(SELECT {b}.resource_id FROM resource_version {b} WHERE {Matching(b, chain.TargetType, snapshot, [chain.Inner])})";
        return driving
            ? $"{alias}.version_key IN (SELECT {r}.version_key FROM idx_reference {r} WHERE {r}.resource_type = {sql.P(resourceType)} AND {targets})"
            : $"EXISTS (SELECT 1 FROM idx_reference {r} WHERE {r}.version_key = {alias}.version_key AND {targets})";
    }

    private string Has(HasCriterion has, string alias, string resourceType, long? snapshot)
    {
        var r = NextAlias("r");
        var b = NextAlias("b");
        return $"{alias}.resource_id IN (SELECT {r}.target_id FROM idx_reference {r} WHERE {r}.resource_type = {sql.P(has.SourceType)} " +
               $"AND {r}.param = {sql.P(has.Reference.Name)} AND {r}.target_type = {sql.P(resourceType)} " +
               $"AND {r}.version_key IN (SELECT {b}.version_key FROM resource_version {b} WHERE {Matching(b, has.SourceType, snapshot, [has.Inner])}))";
    }

    /// <summary>
    /// _has checked per candidate: does some visible source version matching the inner criterion point at it, found
    /// through idx_reference's (target_id, target_type, param) index. When the inner criterion is broad this finds a
    /// page after a few candidates, where <see cref="Has"/> first collects every source's target.
    /// </summary>
    private string HasPerRow(HasCriterion has, string alias, string resourceType, long? snapshot)
    {
        var r = NextAlias("r");
        var b = NextAlias("b");
        var inner = snapshot is { } pinned ? Criteria(b, has.SourceType, pinned, [has.Inner]) : Condition(has.Inner, b, has.SourceType, null, driving: false);
        return $"EXISTS (SELECT 1 FROM idx_reference {r} CROSS JOIN resource_version {b} WHERE {r}.target_id = {alias}.resource_id AND {r}.target_type = {sql.P(resourceType)} " +
               $"AND {r}.param = {sql.P(has.Reference.Name)} AND {r}.resource_type = {sql.P(has.SourceType)} AND {b}.version_key = {r}.version_key " +
               $"AND {Visible(b, snapshot, unindexed: true)} AND ({inner}){sql.PerRowFence})";
    }

    private string Parameter(ParameterCriterion criterion, string alias, string resourceType, bool driving, bool perRow = false)
    {
        var parameter = criterion.Parameter;
        if (parameter.IsVersionColumn)
            return VersionColumn(criterion, alias);
        var table = TableOf(parameter.Type);
        var i = NextAlias("i");
        var perVersion = $"SELECT 1 FROM {table} {i} WHERE {i}.version_key = {alias}.version_key AND {i}.param = {sql.P(parameter.Name)}";
        var fence = perRow ? sql.PerRowFence : "";
        if (criterion.Missing is { } missing)
            return missing ? $"NOT EXISTS ({perVersion}{fence})" : $"EXISTS ({perVersion}{fence})";
        var values = Values(criterion, i);
        // :not keeps the versions with no matching row, including those without the element at all.
        if (criterion.Modifier == "not")
            return $"NOT EXISTS ({perVersion} AND ({values}){fence})";
        return driving
            ? $"{alias}.version_key IN (SELECT {i}.version_key FROM {table} {i} WHERE {i}.resource_type = {sql.P(resourceType)} AND {i}.param = {sql.P(parameter.Name)} AND ({values}))"
            : $"EXISTS ({perVersion} AND ({values}){fence})";
    }

    private string Values(ParameterCriterion criterion, string i) =>
        string.Join(" OR ", criterion.Values.Select(v => "(" + ValueMatch(criterion.Parameter, criterion.Modifier, v, i) + ")"));

    /// <summary>The criterion <see cref="Matching"/> drives a query from, if any.</summary>
    public static SearchCriterion? Driver(IReadOnlyList<SearchCriterion> criteria) => criteria.Where(IsDriver).OrderBy(DriverRank).FirstOrDefault();

    /// <summary>
    /// How many index rows (any version, at most <paramref name="limit"/>) an index-table criterion matches: a cheap
    /// range read of its search index that tells a narrow criterion from a broad one.
    /// </summary>
    public string IndexRowsUpTo(ParameterCriterion criterion, string resourceType, int limit)
    {
        var i = NextAlias("i");
        return $"SELECT COUNT(*) FROM (SELECT 1 AS hit FROM {TableOf(criterion.Parameter.Type)} {i} WHERE {i}.resource_type = {sql.P(resourceType)} " +
               $"AND {i}.param = {sql.P(criterion.Parameter.Name)} AND ({Values(criterion, i)}) LIMIT {limit}) hits";
    }

    /// <summary>
    /// The matches in the walk's order straight off resource_version's (type, id) or (type, lastUpdated, id) index,
    /// every criterion checked per row; the caller appends LIMIT/OFFSET, so the engine stops after the page. Columns:
    /// version_key, lastUpdated, resource_id (what a <see cref="SeekPosition"/> is made of). <paramref name="after"/>
    /// starts the walk past that match (keyset paging) instead of at the type's first row.
    /// </summary>
    public string VersionsInOrder(OrderedWalk walk, string resourceType, long snapshot, IReadOnlyList<SearchCriterion> criteria, SeekPosition? after = null)
    {
        var descending = walk.Descending ? " DESC" : "";
        var (index, order) = walk.By == OrderedWalk.Kind.LastUpdated
            ? ("ix_resource_type_updated_id", $"a.last_updated_ms{descending}, a.resource_id")
            : ("ux_resource_version", $"a.resource_id{descending}");
        var seek = after is null ? "" : " AND " + (walk.By == OrderedWalk.Kind.LastUpdated
            ? After("a.last_updated_ms", sql.P(after.Number), "a.resource_id", after.ResourceId, walk.Descending)
            : $"a.resource_id {(walk.Descending ? "<" : ">")} {sql.P(after.ResourceId)}");
        return $"SELECT a.version_key, a.last_updated_ms, a.resource_id FROM resource_version a{sql.IndexedBy(index)} WHERE a.resource_type = {sql.P(resourceType)}{seek} " +
               $"AND {Visible("a", snapshot, unindexed: true)} AND {Criteria("a", resourceType, snapshot, criteria, perRow: true)} ORDER BY {order}";
    }

    /// <summary>
    /// Past (<paramref name="value"/>, <paramref name="id"/>) in the order "value (descending or not), then id ascending":
    /// a range on the value the index can seek to, then the ties after the id.
    /// </summary>
    private string After(string column, string value, string idColumn, string id, bool descending) =>
        descending
            ? $"{column} <= {value} AND ({column} < {value} OR {idColumn} > {sql.P(id)})"
            : $"{column} >= {value} AND ({column} > {value} OR {idColumn} > {sql.P(id)})";

    /// <summary>
    /// The matches with a value for the sort parameter, from its sort-key table: ascending by the least value,
    /// descending by the greatest (<see cref="SortExpression"/>'s rule), ties by id. <paramref name="ordered"/> false
    /// gives the bare set (to count it). Columns: version_key, the sort value, resource_id. <paramref name="after"/> (a
    /// valued position) starts past that match.
    /// </summary>
    public string ValuedInOrder(OrderedWalk walk, string resourceType, long snapshot, IReadOnlyList<SearchCriterion> criteria, bool ordered, SeekPosition? after = null)
    {
        var key = walk.Key!;
        var (table, column) = key.Parameter.Type == SearchParamType.Date
            ? ("sort_date", key.Descending ? "max_ms" : "min_ms")
            : ("sort_text", key.Descending ? "max_text" : "min_text");
        var seek = after is null ? "" : " AND " + After("s." + column, after.Kind == SeekPosition.Kinds.Number ? sql.P(after.Number) : sql.P(after.Text ?? ""),
            "s.resource_id", after.ResourceId, key.Descending);
        // CROSS JOIN keeps the sort table outermost in SQLite (the walk). The criteria name only the sort row's
        // version_key and resource_id (the walk takes no chain, _has or _lastUpdated), so they are checked on the walk
        // itself and only the rows that pass read their version row (by primary key) for visibility.
        var select = $"SELECT s.version_key, s.{column}, s.resource_id FROM {table} s{sql.IndexedBy(SchemaMigrator.SortWalkIndex(table, key.Descending))} CROSS JOIN resource_version a " +
                     $"WHERE s.resource_type = {sql.P(resourceType)} AND s.param = {sql.P(key.Parameter.Name)}{seek} AND {Criteria("s", resourceType, snapshot, criteria, perRow: true)} " +
                     $"AND a.version_key = s.version_key AND {Visible("a", snapshot, unindexed: true)}";
        return ordered ? $"{select} ORDER BY s.{column}{(key.Descending ? " DESC" : "")}, s.resource_id" : select;
    }

    /// <summary>
    /// The matches without a value for the sort parameter (no index row; for a token, none with a code), which sort
    /// after every valued match in either direction, by id. Columns: version_key, resource_id, resource_id.
    /// <paramref name="afterId"/> starts past that id.
    /// </summary>
    public string MissingInOrder(OrderedWalk walk, string resourceType, long snapshot, IReadOnlyList<SearchCriterion> criteria, string? afterId = null)
    {
        var parameter = walk.Key!.Parameter;
        var m = NextAlias("m");
        var withCode = parameter.Type == SearchParamType.Token ? $" AND {m}.code IS NOT NULL" : "";
        var seek = afterId is null ? "" : $" AND a.resource_id > {sql.P(afterId)}";
        return $"SELECT a.version_key, a.resource_id, a.resource_id FROM resource_version a{sql.IndexedBy("ux_resource_version")} WHERE a.resource_type = {sql.P(resourceType)}{seek} " +
               $"AND {Visible("a", snapshot, unindexed: true)} AND {Criteria("a", resourceType, snapshot, criteria, perRow: true)} " +
               $"AND NOT EXISTS (SELECT 1 FROM {TableOf(parameter.Type)} {m} WHERE {m}.version_key = a.version_key AND {m}.param = {sql.P(parameter.Name)}{withCode}{sql.PerRowFence}) " +
               "ORDER BY a.resource_id";
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

    /// <summary>
    /// The sort value of one key: the smallest value ascending, the largest descending (FHIR's rule for repeats).
    /// A resource without a value gets a sentinel that sorts it last either way, the same on both engines.
    /// </summary>
    public string SortExpression(SortKey key, string alias)
    {
        var parameter = key.Parameter;
        if (parameter.Name == "_id")
            return alias + ".resource_id";
        if (parameter.Name == "_lastUpdated")
            return alias + ".last_updated_ms";
        var (column, last) = parameter.Type switch
        {
            SearchParamType.Date => key.Descending ? ("high_ms", (object)FhirInstantRange.MinValue) : ("low_ms", FhirInstantRange.MaxValue),
            SearchParamType.String => ("value_norm", key.Descending ? "" : new string(char.MaxValue, 4)),
            SearchParamType.Token => ("code", key.Descending ? "" : new string(char.MaxValue, 4)),
            _ => ("value", key.Descending ? decimal.MinValue : decimal.MaxValue),
        };
        var i = NextAlias("s");
        return $"COALESCE((SELECT {(key.Descending ? "MAX" : "MIN")}({i}.{column}) FROM {TableOf(parameter.Type)} {i} " +
               $"WHERE {i}.version_key = {alias}.version_key AND {i}.param = {sql.P(parameter.Name)}), {sql.P(last)})";
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
