using FhirCaseService.Storage.Search;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// Which of several index criteria drives the general plan. The choice only changes the cost, never the matches
/// (SortedPagingContract checks that), so it is pinned here against counted rows: a wrong driver is a 100x slower
/// search that every result test would still pass.
/// </summary>
public sealed class DriverChoiceTests
{
    private static readonly ParameterCriterion Code = Criterion("code=mrd");
    private static readonly ParameterCriterion Date = Criterion("date=ge2021-03");
    private static readonly ParameterCriterion Value = Criterion("value-quantity=gt0.01");

    [Fact]
    public async Task The_criterion_with_fewest_rows_drives_when_one_falls_short_of_the_first_limit()
    {
        var probes = new Probes((Code, 41_213), (Date, 740));

        var driver = await SearchExecutor.NarrowestAsync([Code, Date], probes.Count, 5000, 500_000);

        Assert.Same(Date, driver);
        Assert.Equal([(Code, 5001), (Date, 5001)], probes.Made);
    }

    [Fact]
    public async Task Criteria_that_all_pass_the_first_limit_are_counted_further_until_one_falls_short()
    {
        // 100,000 patients: both pass 5,000; counted first-wins, the broad code drove.
        var probes = new Probes((Code, 412_000), (Date, 7_400));

        var driver = await SearchExecutor.NarrowestAsync([Code, Date], probes.Count, 5000, 500_000);

        Assert.Same(Date, driver);
        Assert.Equal([(Code, 5001), (Date, 5001), (Code, 50_001), (Date, 50_001)], probes.Made);
    }

    [Fact]
    public async Task A_criterion_short_of_a_limit_is_not_counted_again_and_the_least_of_those_short_wins()
    {
        var probes = new Probes((Code, 900_000), (Date, 30_000), (Value, 12_000));

        var driver = await SearchExecutor.NarrowestAsync([Code, Date, Value], probes.Count, 5000, 500_000);

        Assert.Same(Value, driver);
        Assert.Equal(6, probes.Made.Count);
        Assert.DoesNotContain(probes.Made, p => p.Limit > 50_001);
    }

    [Fact]
    public async Task Criteria_still_tied_past_the_last_limit_leave_the_first_to_drive()
    {
        var probes = new Probes((Code, 2_000_000), (Date, 3_000_000));

        var driver = await SearchExecutor.NarrowestAsync([Code, Date], probes.Count, 5000, 500_000);

        Assert.Same(Code, driver);
        Assert.Equal(500_001, probes.Made.Max(p => p.Limit));
    }

    private static ParameterCriterion Criterion(string query) =>
        SearchQuery.Parse("Observation", SearchContract<SqliteBackend>.Pairs(query)).Criteria.OfType<ParameterCriterion>().Single();

    /// <summary>An index that holds the given number of rows per criterion and records each count asked of it.</summary>
    private sealed class Probes(params (ParameterCriterion Criterion, long Rows)[] rows)
    {
        public List<(ParameterCriterion Criterion, int Limit)> Made { get; } = [];

        public Task<long> Count(ParameterCriterion criterion, int limit)
        {
            Made.Add((criterion, limit));
            return Task.FromResult(Math.Min(rows.Single(r => ReferenceEquals(r.Criterion, criterion)).Rows, limit));
        }
    }
}
