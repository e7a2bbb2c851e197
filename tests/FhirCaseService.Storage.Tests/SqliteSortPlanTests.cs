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
    [Theory]
    [InlineData("Observation", "code=mrd&_sort=-date", "SEARCH s USING COVERING INDEX ix_sort_date_desc (resource_type=? AND param=?)")]
    [InlineData("Observation", "_sort=date", "SEARCH s USING COVERING INDEX ix_sort_date_asc (resource_type=? AND param=?)")]
    [InlineData("Patient", "_sort=-family", "SEARCH s USING COVERING INDEX ix_sort_text_desc (resource_type=? AND param=?)")]
    [InlineData("Observation", "_sort=code", "SEARCH s USING COVERING INDEX ix_sort_text_asc (resource_type=? AND param=?)")]
    [InlineData("Observation", "code=mrd", "SEARCH a USING INDEX ux_resource_version (resource_type=?)")]
    [InlineData("Observation", "_sort=-_id", "SEARCH a USING INDEX ux_resource_version (resource_type=?)")]
    [InlineData("Observation", "_lastUpdated=gt2021-01-01&_sort=_lastUpdated", "SEARCH a USING INDEX ix_resource_type_updated_id (resource_type=? AND last_updated_ms>?)")]
    public async Task A_walked_page_reads_an_index_in_sort_order_without_sorting_the_matches(string type, string query, string firstStep)
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse(type, SearchContract<SqliteBackend>.Pairs(query));
        var walk = OrderedWalk.For(parsed.Sort)!;
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
    [InlineData("_sort=date", "SEARCH s USING COVERING INDEX ix_sort_date_asc (resource_type=? AND param=? AND min_ms>?)")]
    [InlineData("_sort=_lastUpdated", "SEARCH a USING INDEX ix_resource_type_updated_id (resource_type=? AND last_updated_ms>?)")]
    [InlineData("_sort=-_id", "SEARCH a USING INDEX ux_resource_version (resource_type=? AND resource_id<?)")]
    public async Task A_seek_page_starts_its_walk_at_the_previous_pages_last_key(string query, string firstStep)
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs(query));
        var walk = OrderedWalk.For(parsed.Sort)!;
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
        sql.Append(new SearchSql(sql).MissingInOrder(OrderedWalk.For(parsed.Sort)!, "Observation", 1, parsed.Criteria) + " LIMIT 21 OFFSET 0");

        var plan = await PlanAsync(store.Dialect, sql);

        Assert.Equal("SEARCH a USING INDEX ux_resource_version (resource_type=?)", plan[0]);
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }

    private static async Task<List<string>> PlanAsync(SqlDialect dialect, SqlText sql)
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
