using FhirCaseService.Storage.Indexing;
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

    /// <summary>
    /// A walked page reads the sort index (or resource_version's) in order and checks its criterion per row, whatever
    /// the statistics and whether the plan is custom or generic. Unfenced, PostgreSQL pulled the EXISTS up into a semi
    /// join: right after a bulk load (partial statistics, a criterion's rows underestimated 20-fold) the custom plan
    /// hashed all 4,207 code=mrd rows and sorted their matches (316 ms), and the generic plan a pooled connection's
    /// prepared statement switches to after five runs drove from code=mrd and probed ix_sort_date_desc for each row's
    /// version_key, which is not a seekable column of it (17 s at 1,000 patients; docs/performance.md, helper pgsearch).
    /// </summary>
    [Theory]
    [InlineData("Observation", "code=mrd&_sort=-date", WalkPart.Valued)]
    [InlineData("Observation", "code=mrd&_sort=-date", WalkPart.Missing)]
    [InlineData("Observation", "code:missing=false&_sort=date", WalkPart.Valued)]
    [InlineData("Observation", "code:not=mrd&_sort=-date", WalkPart.Valued)]
    [InlineData("Observation", "code=mrd", WalkPart.Versions)]
    [InlineData("Observation", "code=mrd&_sort=-_lastUpdated", WalkPart.Versions)]
    [InlineData("Patient", "name=a&_sort=birthdate", WalkPart.Valued)]
    public async Task A_walked_page_checks_its_criterion_per_row_in_custom_and_generic_plans(string type, string query, WalkPart part)
    {
        await using var db = await new PostgresBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse(type, SearchContract<PostgresBackend>.Pairs(query));
        var walk = OrderedWalk.For(parsed.Sort, SortableTokens.None)!;
        var sql = new SqlText(store.Dialect);
        var search = new SearchSql(sql);
        sql.Append(part switch
        {
            WalkPart.Valued => search.ValuedInOrder(walk, type, 1, parsed.Criteria, ordered: true),
            WalkPart.Missing => search.MissingInOrder(walk, type, 1, parsed.Criteria),
            _ => search.VersionsInOrder(walk, type, 1, parsed.Criteria),
        });
        sql.Append(" LIMIT 21 OFFSET 0");

        foreach (var plan in new[] { await PlanAsync(store.Dialect, sql), await GenericPlanAsync(store.Dialect, sql) })
        {
            var text = string.Join("\n", plan);
            var subPlan = plan.FindIndex(line => line.Contains("SubPlan", StringComparison.Ordinal));
            Assert.True(subPlan > 0, text);
            Assert.DoesNotContain(plan, line => line.Contains("Semi Join", StringComparison.Ordinal) || line.Contains("Anti Join", StringComparison.Ordinal));
            // The index tables (the criterion's, the sort parameter's for the valueless part) are read only inside subplans.
            Assert.DoesNotContain(plan.Take(subPlan), line => line.Contains(" idx_", StringComparison.Ordinal));
        }
    }

    public enum WalkPart
    {
        Valued,
        Missing,
        Versions,
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

    /// <summary>
    /// The plan PostgreSQL keeps for a prepared statement once it prefers the generic one (Npgsql prepares the service's
    /// statements; after five runs the server may switch to a plan made without the parameters' values).
    /// </summary>
    private static async Task<List<string>> GenericPlanAsync(SqlDialect dialect, SqlText sql)
    {
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var bound = sql.CreateCommand(connection, null);
        var positional = System.Text.RegularExpressions.Regex.Replace(bound.CommandText, @"@p(\d+)",
            m => "$" + (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using (var prepare = connection.CreateCommand())
        {
            var types = bound.Parameters.Cast<System.Data.Common.DbParameter>().Select(p => p.Value switch
            {
                long => "bigint",
                int => "integer",
                decimal => "numeric",
                _ => "text",
            });
            prepare.CommandText = $"SET plan_cache_mode = force_generic_plan; PREPARE walk ({string.Join(", ", types)}) AS {positional}";
            await prepare.ExecuteNonQueryAsync();
        }
        // A utility statement takes no bound parameters: the values go in as literals.
        bound.CommandText = $"EXPLAIN EXECUTE walk({string.Join(", ", bound.Parameters.Cast<System.Data.Common.DbParameter>().Select(p => p.Value switch
        {
            string text => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'",
            var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        }))})";
        bound.Parameters.Clear();
        var plan = new List<string>();
        await using (var reader = await bound.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                plan.Add(reader.GetString(0));
        await using var reset = connection.CreateCommand();
        reset.CommandText = "DEALLOCATE walk; RESET plan_cache_mode";
        await reset.ExecuteNonQueryAsync();
        Assert.Contains(plan, line => line.Contains('$', StringComparison.Ordinal));
        return plan;
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
