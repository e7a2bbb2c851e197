using System.Globalization;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using static FhirCaseService.Storage.Tests.Export.ExportHarness;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Export;

/// <summary>
/// A registry's incremental pull by search: <c>_lastUpdated=gt&lt;the previous result's SnapshotLastUpdated&gt;</c>,
/// paged, again and again while an EHR writes. Every write must arrive exactly once.
/// </summary>
public abstract class LastUpdatedPullContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    [Fact]
    public async Task Successive_last_updated_pulls_see_every_write_exactly_once_while_a_writer_runs()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Patient("before"));
        var written = Enumerable.Range(0, 40).Select(i => $"w{i:D2}").ToList();
        // The writer pauses halfway until a pull has started, so at least one pull certainly falls between writes.
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = Task.Run(async () =>
        {
            foreach (var id in written)
            {
                if (id == "w20")
                {
                    halfway.SetResult();
                    await resume.Task;
                }
                await h.Resources.CreateAsync(Patient(id));
                // An update too: its new version is a change the next pull must carry, and only once.
                if (id.EndsWith('0'))
                    await h.Resources.UpdateAsync(Patient("before"));
            }
        });

        var seen = new List<(string Id, int Version)>();
        DateTimeOffset? mark = null;
        while (true)
        {
            var done = writer.IsCompleted;
            var paused = halfway.Task.IsCompleted;
            var pairs = new List<KeyValuePair<string, string>> { new("_count", "3") };
            if (mark is { } previous)
                pairs.Add(new("_lastUpdated", "gt" + previous.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
            var query = SearchQuery.Parse("Patient", pairs);
            var page = await h.Resources.SearchAsync(query);
            var pullMark = page.SnapshotLastUpdated;
            while (true)
            {
                seen.AddRange(page.Matches.Select(m => (m.Id, m.VersionId)));
                Assert.Equal(pullMark, page.SnapshotLastUpdated);
                Assert.All(page.Matches, m => Assert.True(m.LastUpdated <= pullMark));
                if (page.Next is null)
                    break;
                page = await h.Resources.SearchAsync(query.WithCursor(page.Next));
            }
            mark = pullMark;
            if (paused)
                resume.TrySetResult();
            if (done)
                break;
        }
        await writer;

        Assert.Equal(written.Select(id => (id, 1)), seen.Where(s => s.Id != "before").OrderBy(s => s.Id, StringComparer.Ordinal));
        // Updates between two pulls arrive as the newest version only; never one version twice, and the last one arrives.
        var versions = seen.Where(s => s.Id == "before").Select(s => s.Version).ToList();
        Assert.Equal(versions.Distinct().Order(), versions);
        Assert.Equal(5, versions[^1]);
    }

    [Fact]
    public async Task The_snapshot_last_updated_is_the_newest_change_in_the_snapshot()
    {
        await using var h = await OpenAsync(_backend);
        var empty = await h.Resources.SearchAsync(SearchQuery.Parse("Patient", []));
        await h.Resources.CreateAsync(Patient("p1"));
        var last = await h.Resources.CreateAsync(new Observation { Id = "o1", Status = ObservationStatus.Final, Code = new CodeableConcept("http://loinc.org", "8310-5") });

        var patients = await h.Resources.SearchAsync(SearchQuery.Parse("Patient", []));
        var everything = await h.Resources.EverythingAsync(new EverythingQuery("p1"));

        Assert.Equal(DateTimeOffset.UnixEpoch, empty.SnapshotLastUpdated);
        Assert.Equal(last.LastUpdated, patients.SnapshotLastUpdated);
        Assert.Equal(last.LastUpdated, everything.SnapshotLastUpdated);
    }
}

public sealed class SqliteLastUpdatedPullTests : LastUpdatedPullContract<SqliteBackend>;

public sealed class PostgresLastUpdatedPullTests : LastUpdatedPullContract<PostgresBackend>;
