using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>Paging over a pinned snapshot while other writers insert, update and delete; on every backend.</summary>
public abstract class PagingContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    private static Observation Mrd(string id, string date) => new()
    {
        Id = id,
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts", "mrd"),
        Subject = new ResourceReference("Patient/pg"),
        Effective = new FhirDateTime(date),
        Value = new Quantity(0.01m, "%", "http://unitsofmeasure.org"),
    };

    [Fact]
    public async Task Estimated_total_is_exact_up_to_the_cap_and_left_out_above_it()
    {
        await using var db = await _backend.OpenAsync();
        var cap = SearchExecutor.EstimatedTotalCap;
        await db.Store.TransactionAsync(async (tx, ct) =>
        {
            for (var i = 0; i <= cap; i++)
                await tx.CreateAsync(Mrd($"obs-{i:D4}", "2021-02-01"), ct);
            return cap + 1;
        });
        Task<SearchResult> Search(string query) => db.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs(query)));

        var aboveCap = await Search("code=mrd&_count=10&_total=estimate");
        var accurate = await Search("code=mrd&_count=10&_total=accurate");
        var lastPage = await Search($"code=mrd&_count={cap}&_total=estimate");
        await db.Store.DeleteAsync("Observation", "obs-0000");
        var atCap = await Search("code=mrd&_count=10&_total=estimate");
        var none = await Search("code=mrd&_count=10&_total=none");

        Assert.Null(aboveCap.Total);
        Assert.Equal(10, aboveCap.Matches.Count);
        Assert.Equal(cap + 1, accurate.Total);
        Assert.NotNull(lastPage.Next);
        var tail = await db.Store.SearchAsync(SearchQuery.Parse("Observation",
            SearchContract<TBackend>.Pairs($"code=mrd&_count={cap}&_total=estimate").Append(new("_cursor", lastPage.Next!.ToString()))));
        Assert.Equal(cap + 1, tail.Total);
        Assert.Equal(cap, atCap.Total);
        Assert.Null(none.Total);
    }

    /// <summary>
    /// After a walk the estimated total is a per-row count (on PostgreSQL through <c>SqlDialect.PerRowFence</c>): it must
    /// count only current, visible matches, whatever the index rows of older versions and other codes say.
    /// </summary>
    [Fact]
    public async Task Estimated_total_after_a_walk_counts_only_current_matches()
    {
        await using var db = await _backend.OpenAsync();
        var cap = SearchExecutor.EstimatedTotalCap;
        await db.Store.TransactionAsync(async (tx, ct) =>
        {
            for (var i = 0; i <= cap; i++)
                await tx.CreateAsync(Mrd($"obs-{i:D4}", $"2021-02-{i % 28 + 1:D2}"), ct);
            for (var i = 0; i < 50; i++)
            {
                var other = Mrd($"other-{i:D2}", "2021-03-01");
                other.Code = new CodeableConcept("http://loinc.org", "8867-4");
                await tx.CreateAsync(other, ct);
            }
            return cap + 51;
        });
        // Five change code (their old versions keep their mrd index rows), three are deleted: 993 current mrd matches,
        // while the mrd index rows stay above the walk's threshold.
        for (var i = 0; i < 5; i++)
        {
            var changed = Mrd($"obs-{i:D4}", "2021-02-01");
            changed.Code = new CodeableConcept("http://loinc.org", "8867-4");
            await db.Store.UpdateAsync(changed);
        }
        for (var i = 5; i < 8; i++)
            await db.Store.DeleteAsync("Observation", $"obs-{i:D4}");
        Task<SearchResult> Search(string query) => db.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs(query)));

        var sorted = await Search("code=mrd&_sort=-date&_count=10&_total=estimate");
        var byId = await Search("code=mrd&_count=10&_total=estimate");
        var accurate = await Search("code=mrd&_sort=-date&_count=10&_total=accurate");

        Assert.Equal(cap - 7, accurate.Total);
        Assert.Equal(cap - 7, sorted.Total);
        Assert.Equal(cap - 7, byId.Total);
        Assert.Equal(10, sorted.Matches.Count);
        Assert.All(sorted.Matches, m => Assert.StartsWith("obs-", m.Id, StringComparison.Ordinal));
        Assert.DoesNotContain(byId.Matches, m => m.Id is "obs-0000" or "obs-0005");
    }

    [Fact]
    public async Task Pages_stay_exactly_the_first_pages_snapshot_while_another_writer_inserts_updates_and_deletes()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.TransactionAsync(async (tx, ct) =>
        {
            for (var i = 0; i < 25; i++)
                await tx.CreateAsync(Mrd($"obs-{i:D2}", $"2021-02-{i + 1:D2}"), ct);
            return 25;
        });
        var pairs = SearchContract<TBackend>.Pairs("code=mrd&_sort=-date&_count=10").ToList();
        var first = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs));

        // Another writer: new resources that sort first, a deletion and an update of a resource on a later page.
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
                await db.Store.CreateAsync(Mrd($"new-{i}", "2022-01-01"));
            await db.Store.DeleteAsync("Observation", "obs-05");
            await db.Store.UpdateAsync(Mrd("obs-03", "2023-01-01"));
        });
        var pages = new List<SearchResult> { first };
        while (pages[^1].Next is { } next)
        {
            pages.Add(await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs.Append(new("_cursor", next.ToString())))));
            if (pages.Count == 2)
                await writer;
        }
        await writer;

        var seen = pages.SelectMany(p => p.Matches).ToList();
        Assert.Equal(Enumerable.Range(0, 25).Reverse().Select(i => $"obs-{i:D2}"), seen.Select(m => m.Id));
        Assert.All(seen, m => Assert.Equal(1, m.VersionId));
        Assert.Single(pages.Select(p => p.Snapshot).Distinct());

        var fresh = await db.Store.SearchAsync(SearchQuery.Parse("Observation", SearchContract<TBackend>.Pairs("code=mrd&_count=100&_total=accurate")));
        Assert.Equal(34, fresh.Total);
        Assert.True(fresh.Snapshot > first.Snapshot);
    }

    [Fact]
    public async Task Previous_returns_the_page_before()
    {
        await using var db = await _backend.OpenAsync();
        for (var i = 0; i < 7; i++)
            await db.Store.CreateAsync(Mrd($"p-{i}", "2021-03-01"));
        var pairs = SearchContract<TBackend>.Pairs("code=mrd&_count=3&_sort=_id").ToList();

        var first = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs));
        var second = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs).WithCursor(first.Next));
        var back = await db.Store.SearchAsync(SearchQuery.Parse("Observation", pairs).WithCursor(second.Previous));

        Assert.Equal(["p-3", "p-4", "p-5"], second.Matches.Select(m => m.Id));
        Assert.Equal(first.Matches.Select(m => m.Id), back.Matches.Select(m => m.Id));
    }

    [Fact]
    public async Task Change_mark_splits_commits_into_before_and_after_without_gaps()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.CreateAsync(Mrd("before", "2021-01-01"));
        var mark = await db.Store.CurrentChangeAsync();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => db.Store.CreateAsync(Mrd($"after-{i}", "2021-01-01")))));

        var after = await db.Store.HistoryAsync(new HistoryQuery("Observation", Since: mark.LastUpdated.AddMilliseconds(1), Count: 100));

        Assert.Equal(8, after.Entries.Count);
        Assert.All(after.Entries, e => Assert.True(e.ChangeSequence > mark.Sequence));
    }
}

public sealed class SqlitePagingTests : PagingContract<SqliteBackend>;

public sealed class PostgresPagingTests : PagingContract<PostgresBackend>;
