using FhirCaseService.Storage.Indexing;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// A broad page costs the page, not the matches, only if the engine walks an index in sort order and stops at the
/// LIMIT: no temporary B-tree for the ORDER BY. SQLite plans without statistics, so its plans follow from the SQL
/// and are pinned here; PostgreSQL's were checked with EXPLAIN ANALYZE on the bench cohort (docs/import-speed.md).
/// </summary>
public sealed class SqliteSortPlanTests
{
    /// <summary>The token parameters these plans sort by, declared sortable (only those have sort-key rows to walk).</summary>
    private static readonly SortableTokens Declared = SortableTokens.Parse(["Observation.code", "gender"], SearchParameterCatalog.Shared);

    [Theory]
    [InlineData("Observation", "_sort=status")]
    [InlineData("Observation", "_sort=-code")]
    [InlineData("Observation", "_sort=_tag")]
    [InlineData("Patient", "_sort=identifier")]
    public void A_sort_on_an_undeclared_token_parameter_takes_the_general_plan(string type, string query)
    {
        var parsed = SearchQuery.Parse(type, SearchContract<SqliteBackend>.Pairs(query));

        Assert.Null(OrderedWalk.For(parsed.Sort, SortableTokens.None));
        // Declared (Observation.code), the same sort walks the sort-key index.
        Assert.Equal(query == "_sort=-code", OrderedWalk.For(parsed.Sort, Declared) is { By: OrderedWalk.Kind.SortKey });
    }

    [Theory]
    [InlineData("Observation", "code=mrd&_sort=-date", "SEARCH s USING COVERING INDEX ix_sort_date_desc (resource_type=? AND param=?)")]
    [InlineData("Observation", "_sort=date", "SEARCH s USING PRIMARY KEY (resource_type=? AND param=?)")]
    [InlineData("Patient", "_sort=-family", "SEARCH s USING COVERING INDEX ix_sort_text_desc (resource_type=? AND param=?)")]
    [InlineData("Observation", "_sort=code", "SEARCH s USING PRIMARY KEY (resource_type=? AND param=?)")]
    [InlineData("Patient", "_sort=-gender", "SEARCH s USING COVERING INDEX ix_sort_text_desc (resource_type=? AND param=?)")]
    [InlineData("Observation", "code=mrd", "SEARCH a USING INDEX ux_resource_version (resource_type=?)")]
    [InlineData("Observation", "_sort=-_id", "SEARCH a USING INDEX ux_resource_version (resource_type=?)")]
    [InlineData("Observation", "_lastUpdated=gt2021-01-01&_sort=_lastUpdated", "SEARCH a USING INDEX ix_resource_type_updated_id (resource_type=? AND last_updated_ms>?)")]
    public async Task A_walked_page_reads_an_index_in_sort_order_without_sorting_the_matches(string type, string query, string firstStep)
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse(type, SearchContract<SqliteBackend>.Pairs(query));
        var walk = OrderedWalk.For(parsed.Sort, Declared)!;
        var sql = new SqlText(store.Dialect);
        var search = new SearchSql(sql);
        sql.Append(walk.By == OrderedWalk.Kind.SortKey
            ? search.ValuedInOrder(walk, type, 1, parsed.Criteria, ordered: true)
            : search.VersionsInOrder(walk, type, 1, parsed.Criteria));
        sql.Append(" LIMIT 21 OFFSET 0");

        var plan = await PlanAsync(store.Dialect, sql);

        Assert.Equal(firstStep, plan[0]);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("_sort=-date", "SEARCH s USING COVERING INDEX ix_sort_date_desc (resource_type=? AND param=? AND max_ms<?)")]
    [InlineData("_sort=date", "SEARCH s USING PRIMARY KEY (resource_type=? AND param=? AND min_ms>?)")]
    [InlineData("_sort=_lastUpdated", "SEARCH a USING INDEX ix_resource_type_updated_id (resource_type=? AND last_updated_ms>?)")]
    [InlineData("_sort=-_id", "SEARCH a USING INDEX ux_resource_version (resource_type=? AND resource_id<?)")]
    public async Task A_seek_page_starts_its_walk_at_the_previous_pages_last_key(string query, string firstStep)
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs(query));
        var walk = OrderedWalk.For(parsed.Sort, Declared)!;
        var sql = new SqlText(store.Dialect);
        var search = new SearchSql(sql);
        sql.Append(walk.By switch
        {
            OrderedWalk.Kind.SortKey => search.ValuedInOrder(walk, "Observation", 1, parsed.Criteria, ordered: true, new SeekPosition(SeekPosition.Kinds.Number, "o-1", 1_600_000_000_000)),
            OrderedWalk.Kind.LastUpdated => search.VersionsInOrder(walk, "Observation", 1, parsed.Criteria, new SeekPosition(SeekPosition.Kinds.Number, "o-1", 1_600_000_000_000)),
            _ => search.VersionsInOrder(walk, "Observation", 1, parsed.Criteria, new SeekPosition(SeekPosition.Kinds.Id, "o-1")),
        });
        sql.Append(" LIMIT 21 OFFSET 0");

        var plan = await PlanAsync(store.Dialect, sql);

        Assert.Equal(firstStep, plan[0]);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_matches_without_a_value_are_walked_in_id_order()
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs("_sort=-date"));
        var sql = new SqlText(store.Dialect);
        sql.Append(new SearchSql(sql).MissingInOrder(OrderedWalk.For(parsed.Sort, Declared)!, "Observation", 1, parsed.Criteria) + " LIMIT 21 OFFSET 0");

        var plan = await PlanAsync(store.Dialect, sql);

        Assert.Equal("SEARCH a USING INDEX ux_resource_version (resource_type=?)", plan[0]);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    /// <summary>
    /// ge/gt/eb compare the end of the indexed span (high_ms): since schema 7 both the selectivity probe and the
    /// driving IN read the (type, param, high_ms) index from the searched instant on, not every date row of the parameter.
    /// </summary>
    [Theory]
    [InlineData("date=ge2021-03", "high_ms>?")]
    [InlineData("date=gt2021-03", "high_ms>?")]
    [InlineData("date=eb2021-03", "high_ms<?")]
    public async Task A_date_range_on_the_span_end_seeks_the_high_index(string query, string range)
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs("code=mrd&" + query));
        var date = parsed.Criteria.OfType<ParameterCriterion>().Single(c => c.Parameter.Name == "date");
        var expected = $"ix_idx_date_high (resource_type=? AND param=? AND {range})";

        var probe = new SqlText(store.Dialect);
        probe.Append(new SearchSql(probe).IndexRowsUpTo(date, "Observation", 5001));
        var driven = new SqlText(store.Dialect);
        driven.Append("SELECT a.version_key FROM resource_version a WHERE " +
                      new SearchSql(driven).Matching("a", "Observation", 1, parsed.Criteria, new SearchPlan(date, CorrelatedHas: false)));

        Assert.Contains(await PlanAsync(store.Dialect, probe), step => step.Contains(expected, StringComparison.Ordinal));
        Assert.Contains(await PlanAsync(store.Dialect, driven), step => step.Contains(expected, StringComparison.Ordinal));
    }

    internal static async Task<List<string>> PlanAsync(SqlDialect dialect, SqlText sql)
    {
        var plan = new List<string>();
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = sql.CreateCommand(connection, null);
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            plan.Add(reader.GetString(3));
        return plan;
    }
}
