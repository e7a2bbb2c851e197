using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Since schema 8 an SQLite index table is one B-tree clustered by (version_key, param, ord) plus its search index
/// (docs/storage.md, "Schema"): a criterion checked per candidate reads the clustered rows by the candidate's key, a
/// driving criterion reads version keys from the search index alone, and rows that repeat a value within one version
/// are all kept (ord tells them apart).
/// </summary>
public sealed class SqliteIndexLayoutTests
{
    [Fact]
    public async Task A_driving_criterion_reads_version_keys_from_its_search_index_and_the_others_probe_the_clustered_rows()
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var store = (ResourceStore)db.Store;
        var parsed = SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs("code=mrd&status=final&value-quantity=gt1"));
        var code = parsed.Criteria.OfType<ParameterCriterion>().Single(c => c.Parameter.Name == "code");
        var sql = new SqlText(store.Dialect);
        sql.Append("SELECT a.version_key FROM resource_version a WHERE " +
                   new SearchSql(sql).Matching("a", "Observation", 1, parsed.Criteria, new SearchPlan(code, CorrelatedHas: false)));

        var plan = await SqliteSortPlanTests.PlanAsync(store.Dialect, sql);

        Assert.Contains(plan, step => step.Contains("USING COVERING INDEX ix_idx_token_search (resource_type=? AND param=? AND code=?)", StringComparison.Ordinal));
        Assert.Equal(2, plan.Count(step => step.Contains("USING PRIMARY KEY (version_key=? AND param=?)", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Index_values_repeated_within_one_version_are_each_stored()
    {
        await using var db = await new SqliteBackend().OpenAsync();
        var identifier = new Identifier("https://example.org/mrn", "42");
        await db.Store.UpdateAsync(new Patient { Id = "twice", Identifier = [identifier, identifier], Name = [new HumanName { Family = "Baker" }, new HumanName { Family = "Baker" }] });

        var rows = await SortedPagingContract<SqliteBackend>.RowsAsync(((ResourceStore)db.Store).Dialect,
            "SELECT ord, param, code FROM idx_token WHERE param = 'identifier' UNION ALL SELECT ord, param, value_norm FROM idx_string WHERE param = 'family'");
        var found = await db.Store.SearchAsync(SearchQuery.Parse("Patient", SearchContract<SqliteBackend>.Pairs("identifier=https://example.org/mrn|42&family=baker")));

        Assert.Equal(4, rows.Count);
        Assert.Equal(4, rows.Select(r => r.Split('|')[0]).Distinct().Count());
        Assert.Equal(["twice"], found.Matches.Select(m => m.Id));
    }
}
