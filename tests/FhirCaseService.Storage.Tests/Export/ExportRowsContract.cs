using FhirCaseService.Storage.Export;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using static FhirCaseService.Storage.Tests.Export.ExportHarness;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Export;

/// <summary>What an export job reads: its snapshot, _since, the level's population, _typeFilter, deletions, keyset resume.</summary>
public abstract class ExportRowsContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    private static string[] Ids(IEnumerable<ExportRow> rows) => rows.Select(r => r.Id).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task A_job_exports_what_was_committed_when_it_was_created_and_nothing_written_later()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Patient("p1"));
        await h.Resources.CreateAsync(Observation("o1", "p1"));
        await h.Resources.CreateAsync(Observation("o2", "p1"));
        var mark = await h.Resources.CurrentChangeAsync();

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient", "Observation"]));
        await h.Resources.CreateAsync(Patient("p2"));
        await h.Resources.UpdateAsync(Observation("o1", "p1", "cd19"));
        await h.Resources.DeleteAsync("Observation", "o2");

        Assert.Equal(mark, job.TransactionTime);
        Assert.Equal(["p1"], Ids(await h.ReadAllAsync(job, "Patient")));
        var observations = await h.ReadAllAsync(job, "Observation");
        Assert.Equal(["o1", "o2"], Ids(observations));
        Assert.All(observations, o => Assert.Equal(1, o.VersionId));
        Assert.All(observations, o => Assert.False(o.IsDeleted));
        Assert.Contains("\"mrd\"", observations.Single(o => o.Id == "o1").Json);
    }

    [Fact]
    public async Task Rows_carry_the_stored_json_unchanged_with_key_version_and_last_updated()
    {
        await using var h = await OpenAsync(_backend);
        var stored = await h.Resources.CreateAsync(Patient("p1"));
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));

        var row = Assert.Single(await h.ReadAllAsync(job, "Patient"));

        Assert.Equal(("Patient", "p1", 1, stored.LastUpdated), (row.ResourceType, row.Id, row.VersionId, row.LastUpdated));
        Assert.True(row.Key > 0);
        Assert.StartsWith("{\"resourceType\":\"Patient\"", row.Json);
        Assert.Contains("\"id\":\"p1\"", row.Json);
    }

    [Fact]
    public async Task Since_exports_only_resources_changed_after_it()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Patient("old"));
        await h.Resources.CreateAsync(Patient("touched"));
        var mark = await h.Resources.CurrentChangeAsync();
        await h.Resources.CreateAsync(Patient("new"));
        await h.Resources.UpdateAsync(Patient("touched"));

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient", "Observation"], since: mark.LastUpdated));

        var rows = await h.ReadAllAsync(job, "Patient");
        Assert.Equal(["new", "touched"], Ids(rows));
        Assert.Equal(2, rows.Single(r => r.Id == "touched").VersionId);
        Assert.Empty(await h.ReadAllAsync(job, "Observation"));
    }

    [Fact]
    public async Task Patient_level_exports_the_patient_compartments_and_every_patient()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Patient("p1"));
        await h.Resources.CreateAsync(Patient("p2"));
        await h.Resources.CreateAsync(Observation("o1", "p1"));
        await h.Resources.CreateAsync(new Observation
        {
            Id = "about-a-device",
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8310-5"),
            Subject = new ResourceReference("Device/d1"),
        });
        await h.Resources.CreateAsync(new Organization { Id = "org", Name = "Hospital" });

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Patient, ["Patient", "Observation", "Organization"]));

        Assert.Equal(["p1", "p2"], Ids(await h.ReadAllAsync(job, "Patient")));
        Assert.Equal(["o1"], Ids(await h.ReadAllAsync(job, "Observation")));
        Assert.Empty(await h.ReadAllAsync(job, "Organization"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Patient_level_with_posted_patients_exports_only_theirs(bool fewMembers)
    {
        await using var h = await OpenAsync(_backend, drivingMembersLimit: fewMembers ? 100 : 0);
        foreach (var p in new[] { "p1", "p2", "p3" })
        {
            await h.Resources.CreateAsync(Patient(p));
            await h.Resources.CreateAsync(Observation("o-" + p, p));
        }

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Patient, ["Patient", "Observation"], patientIds: ["p1", "p3", "p1"]));

        Assert.Equal(["p1", "p3"], Ids(await h.ReadAllAsync(job, "Patient")));
        Assert.Equal(["o-p1", "o-p3"], Ids(await h.ReadAllAsync(job, "Observation")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Group_level_exports_the_active_members_as_the_group_was_at_kick_off(bool fewMembers)
    {
        await using var h = await OpenAsync(_backend, drivingMembersLimit: fewMembers ? 100 : 0);
        foreach (var p in new[] { "p1", "p2", "p3" })
        {
            await h.Resources.CreateAsync(Patient(p));
            await h.Resources.CreateAsync(Observation("o-" + p, p));
        }
        await h.Resources.CreateAsync(Group("series", ("p1", false), ("p2", true)));

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient", "Observation", "Group"], groupId: "series"));
        await h.Resources.UpdateAsync(Group("series", ("p1", false), ("p2", false), ("p3", false)));

        Assert.Equal(["p1"], Ids(await h.ReadAllAsync(job, "Patient")));
        Assert.Equal(["o-p1"], Ids(await h.ReadAllAsync(job, "Observation")));
        var group = Assert.Single(await h.ReadAllAsync(job, "Group"));
        Assert.Equal(1, group.VersionId);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Group_level_with_posted_patients_exports_only_members_among_them(bool fewMembers)
    {
        await using var h = await OpenAsync(_backend, drivingMembersLimit: fewMembers ? 100 : 0);
        foreach (var p in new[] { "p1", "p2", "p3" })
            await h.Resources.CreateAsync(Patient(p));
        await h.Resources.CreateAsync(Group("series", ("p1", false), ("p2", false)));

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "series", patientIds: ["p2", "p3"]));

        Assert.Equal(["p2"], Ids(await h.ReadAllAsync(job, "Patient")));
    }

    [Fact]
    public async Task Group_level_refuses_a_group_that_is_unknown_or_deleted()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Group("gone", ("p1", false)));
        await h.Resources.DeleteAsync("Group", "gone");

        var unknown = await Assert.ThrowsAsync<ExportGroupNotFoundException>(() => h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "nope")));
        var deleted = await Assert.ThrowsAsync<ExportGroupNotFoundException>(() => h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "gone")));
        await Assert.ThrowsAsync<ExportGroupNotFoundException>(() => h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "bad id!")));

        Assert.Equal("nope", unknown.GroupId);
        Assert.Equal("gone", deleted.GroupId);
    }

    [Fact]
    public async Task A_type_filter_restricts_its_type_and_leaves_other_types_whole()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Patient("p1"));
        await h.Resources.CreateAsync(Patient("p2"));
        await h.Resources.CreateAsync(Observation("mrd", "p1", "mrd"));
        await h.Resources.CreateAsync(Observation("cd19", "p1", "cd19"));
        await h.Resources.CreateAsync(Observation("cd22", "p2", "cd22"));

        var one = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient", "Observation"], typeFilters: ["Observation?code=mrd"]));
        var two = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Observation"],
            typeFilters: ["Observation?code=mrd", "Observation?code=cd22&subject=Patient%2Fp2", "Patient?gender=male"]));

        Assert.Equal(["mrd"], Ids(await h.ReadAllAsync(one, "Observation")));
        Assert.Equal(["p1", "p2"], Ids(await h.ReadAllAsync(one, "Patient")));
        Assert.Equal(["cd22", "mrd"], Ids(await h.ReadAllAsync(two, "Observation")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_type_filter_is_combined_with_the_group_population(bool fewMembers)
    {
        await using var h = await OpenAsync(_backend, drivingMembersLimit: fewMembers ? 100 : 0);
        await h.Resources.CreateAsync(Observation("mrd-1", "p1", "mrd"));
        await h.Resources.CreateAsync(Observation("cd19-1", "p1", "cd19"));
        await h.Resources.CreateAsync(Observation("mrd-2", "p2", "mrd"));
        await h.Resources.CreateAsync(Group("series", ("p1", false)));

        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Observation"], groupId: "series", typeFilters: ["Observation?code=mrd"]));

        Assert.Equal(["mrd-1"], Ids(await h.ReadAllAsync(job, "Observation")));
    }

    [Fact]
    public async Task Deletions_are_exported_only_when_asked_for_with_since()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Observation("kept", "p1"));
        await h.Resources.CreateAsync(Observation("removed", "p1"));
        await h.Resources.CreateAsync(Observation("other-patient", "p2"));
        var mark = await h.Resources.CurrentChangeAsync();
        await h.Resources.DeleteAsync("Observation", "removed");
        await h.Resources.DeleteAsync("Observation", "other-patient");
        await h.Resources.CreateAsync(Group("series", ("p1", false)));

        var incremental = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Observation"], since: mark.LastUpdated, includeDeleted: true));
        var withoutSince = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Observation"], includeDeleted: true));
        var notAsked = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Observation"], since: mark.LastUpdated));
        var group = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Observation"], since: mark.LastUpdated, groupId: "series", includeDeleted: true));

        var deletions = await h.ReadAllAsync(incremental, "Observation");
        Assert.Equal(["other-patient", "removed"], Ids(deletions));
        Assert.All(deletions, d => Assert.True(d.IsDeleted));
        Assert.All(deletions, d => Assert.Null(d.Json));
        Assert.Equal(["kept"], Ids(await h.ReadAllAsync(withoutSince, "Observation")));
        Assert.Empty(await h.ReadAllAsync(notAsked, "Observation"));
        // The deleted version is judged by the version it deleted: "removed" was p1's, "other-patient" was not.
        Assert.Equal(["removed"], Ids(await h.ReadAllAsync(group, "Observation")));
    }

    [Fact]
    public async Task Reading_resumes_after_the_last_key_written_with_nothing_repeated_or_lost()
    {
        await using var h = await OpenAsync(_backend, batchSize: 4);
        for (var i = 0; i < 11; i++)
            await h.Resources.CreateAsync(Patient($"p{i:D2}"));
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));

        var all = await h.ReadAllAsync(job, "Patient");
        var resumed = await h.ReadAllAsync(job, "Patient", afterKey: all[6].Key);

        Assert.Equal(11, all.Count);
        Assert.Equal(all.Select(r => r.Key).Order(), all.Select(r => r.Key));
        Assert.Equal(all.Skip(7).Select(r => r.Id), resumed.Select(r => r.Id));
    }

    [Fact]
    public async Task A_type_larger_than_one_batch_is_read_whole_in_key_order()
    {
        await using var h = await OpenAsync(_backend, batchSize: 3);
        await h.Resources.TransactionAsync(async (tx, ct) =>
        {
            for (var i = 0; i < 10; i++)
                await tx.CreateAsync(Patient($"p{i}"), ct);
            return 10;
        });
        await h.Resources.CreateAsync(Observation("o1", "p1"));
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.Patient, ["Patient"]));

        var rows = await h.ReadAllAsync(job, "Patient");

        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"p{i}"), Ids(rows));
        Assert.Equal(rows.Select(r => r.Key).Order(), rows.Select(r => r.Key));
    }

    [Fact]
    public async Task Exports_chained_on_transaction_time_see_every_write_once_while_a_writer_runs()
    {
        await using var h = await OpenAsync(_backend, batchSize: 5);
        var written = Enumerable.Range(0, 40).Select(i => $"w{i:D2}").ToList();
        // The writer pauses halfway until an export has been created, so at least one falls between writes.
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
            }
        });
        var seen = new List<string>();
        DateTimeOffset? since = null;
        while (true)
        {
            var done = writer.IsCompleted;
            var paused = halfway.Task.IsCompleted;
            var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"], since: since));
            seen.AddRange((await h.ReadAllAsync(job, "Patient")).Select(r => r.Id));
            since = job.TransactionTime.LastUpdated;
            if (paused)
                resume.TrySetResult();
            if (done)
                break;
        }
        await writer;

        Assert.Equal(written, seen.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_type_filter_without_a_query_or_with_a_bad_value_is_refused()
    {
        Assert.Throws<SearchQueryException>(() => ExportTypeFilter.Parse("Observation"));
        Assert.Throws<SearchQueryException>(() => ExportTypeFilter.Parse("Observation?date=yesterday"));
        Assert.Throws<SearchQueryException>(() => ExportTypeFilter.Parse("NoSuchType?code=x"));
        Assert.Equal("Observation", ExportTypeFilter.Parse("Observation?code=http%3A%2F%2Floinc.org%7C8310-5").ResourceType);
    }
}

public sealed class SqliteExportRowsTests : ExportRowsContract<SqliteBackend>;

public sealed class PostgresExportRowsTests : ExportRowsContract<PostgresBackend>;
