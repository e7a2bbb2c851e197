using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// PostgreSQL pulls a plain correlated EXISTS up into a semi join, which it may run as "read every row of the broad
/// criterion, then join" (a merge or hash semi join): the capped estimate count after a walk then read all 41,213
/// code=mrd rows at 10,000 patients (2.2-3.0 s cold) instead of stopping at 1,001 matches (docs/performance.md,
/// helper "search", session 5). <see cref="SqlDialect.PerRowFence"/> keeps those criteria per-row subplans. Plans from
/// statistics vary; the pull-up does not (it happens before costing), so "a SubPlan, no join above it" is stable.
/// </summary>
public sealed class PostgresSearchPlanTests
{
    [Theory]
    [InlineData("Observation", "code=mrd&_sort=-date")]
    [InlineData("Observation", "code=mrd")]
    [InlineData("Patient", "_has:Observation:subject:code=51124-6")]
    public async Task A_capped_count_with_per_row_criteria_checks_them_per_row(string type, string query)
    {
        await using var db = await new PostgresBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse(type, SearchContract<PostgresBackend>.Pairs(query));
        var sql = new SqlText(store.Dialect);
        sql.Append($"SELECT COUNT(*) FROM (SELECT 1 FROM resource_version a WHERE {new SearchSql(sql).Matching("a", type, 1, parsed.Criteria, SearchExecutor.Walked)} " +
                   $"LIMIT {SearchExecutor.EstimatedTotalCap + 1}) bounded");

        var plan = await PlanAsync(store.Dialect, sql);

        // The outer scan filters on the subplan; no join above it (inside, the subplan may join what it reads per row).
        var subPlan = plan.FindIndex(line => line.Contains("SubPlan", StringComparison.Ordinal));
        Assert.True(subPlan > 0, string.Join("\n", plan));
        Assert.DoesNotContain(plan.Take(subPlan), line => line.Contains("Join", StringComparison.Ordinal));
    }

    /// <summary>Without a walk (a driver chosen by selectivity), criteria stay plain EXISTS the planner may join.</summary>
    [Fact]
    public async Task A_driven_search_keeps_plain_exists()
    {
        await using var db = await new PostgresBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<PostgresBackend>.Pairs("code=mrd&date=ge2021-03"));
        var date = parsed.Criteria.OfType<ParameterCriterion>().Single(c => c.Parameter.Name == "date");
        var sql = new SqlText(store.Dialect);
        var where = new SearchSql(sql).Matching("a", "Observation", 1, parsed.Criteria, new SearchPlan(date, CorrelatedHas: false));

        Assert.DoesNotContain(store.Dialect.PerRowFence, where, StringComparison.Ordinal);
        Assert.Equal(" OFFSET 0", store.Dialect.PerRowFence);
    }

    private static async Task<List<string>> PlanAsync(SqlDialect dialect, SqlText sql)
    {
        var plan = new List<string>();
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = sql.CreateCommand(connection, null);
        command.CommandText = "EXPLAIN " + command.CommandText;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            plan.Add(reader.GetString(0));
        return plan;
    }
}
