using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>Create, read, vread, update, delete, history and schema start-up; run against every backend.</summary>
public abstract class CrudContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    [Fact]
    public async Task Create_without_id_assigns_a_fresh_id_version_1_and_lastUpdated()
    {
        await using var db = await _backend.OpenAsync();
        var patient = Examples.Patient("p");
        patient.Id = null;

        var stored = await db.Store.CreateAsync(patient);

        Assert.Matches("^[0-9a-f]{32}$", stored.Id);
        Assert.Equal(1, stored.VersionId);
        Assert.Equal("1", stored.Resource!.Meta!.VersionId);
        Assert.Equal(stored.LastUpdated, stored.Resource.Meta!.LastUpdated);
        Assert.Equal(TimeSpan.Zero, stored.LastUpdated.Offset);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - stored.LastUpdated).TotalMinutes) < 5);
        Assert.Null(patient.Id);
        var read = await db.Store.ReadAsync("Patient", stored.Id);
        Assert.Equal(ReadStatus.Found, read.Status);
        Assert.Equal("p", ((Patient)read.Version!.Resource!).Identifier[0].Value);
    }

    [Fact]
    public async Task Stored_content_outside_ascii_reads_back_unchanged_with_its_stamps()
    {
        await using var db = await _backend.OpenAsync();
        const string family = "Zoë Ångström 李 😀 \" \\ \u0001";
        var patient = Examples.Patient("utf8");
        patient.Name = [new HumanName { Family = family }];

        var first = await db.Store.UpdateAsync(patient);
        patient.Name[0].Given = ["Ève"];
        var second = await db.Store.UpdateAsync(patient);

        var read = await db.Store.ReadAsync("Patient", first.Stored.Id);
        var stored = (Patient)read.Version!.Resource!;
        Assert.Equal(family, stored.Name[0].Family);
        Assert.Equal("Ève", stored.Name[0].Given.Single());
        Assert.Equal("2", stored.Meta!.VersionId);
        Assert.Equal(second.Stored.LastUpdated, stored.Meta.LastUpdated);
    }

    [Fact]
    public async Task Create_keeps_a_client_id_and_refuses_it_a_second_time()
    {
        await using var db = await _backend.OpenAsync();
        var stored = await db.Store.CreateAsync(Examples.Patient("c1"));
        Assert.Equal("c1-patient", stored.Id);

        var again = await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() => db.Store.CreateAsync(Examples.Patient("c1")));
        Assert.Equal("c1-patient", again.Id);
    }

    [Fact]
    public async Task Update_of_an_unknown_id_creates_version_1_with_that_id()
    {
        await using var db = await _backend.OpenAsync();
        var result = await db.Store.UpdateAsync(Examples.Patient("put"));

        Assert.True(result.Created);
        Assert.Equal(("put-patient", 1), (result.Stored.Id, result.Stored.VersionId));
    }

    [Fact]
    public async Task Update_adds_a_version_and_vread_returns_every_version()
    {
        await using var db = await _backend.OpenAsync();
        var v1 = await db.Store.CreateAsync(Examples.Patient("u"));
        var changed = Examples.Patient("u");
        changed.Gender = AdministrativeGender.Female;

        var v2 = await db.Store.UpdateAsync(changed, ifMatchVersion: 1);

        Assert.False(v2.Created);
        Assert.Equal(2, v2.Stored.VersionId);
        Assert.True(v2.Stored.LastUpdated > v1.LastUpdated);
        Assert.True(v2.Stored.ChangeSequence > v1.ChangeSequence);
        var old = await db.Store.VReadAsync("Patient", "u-patient", 1);
        var current = await db.Store.ReadAsync("Patient", "u-patient");
        Assert.Equal(AdministrativeGender.Male, ((Patient)old.Version!.Resource!).Gender);
        Assert.Equal(AdministrativeGender.Female, ((Patient)current.Version!.Resource!).Gender);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.VReadAsync("Patient", "u-patient", 3)).Status);
    }

    [Fact]
    public async Task Update_with_a_stale_if_match_is_a_conflict_naming_both_versions()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.CreateAsync(Examples.Patient("s"));
        await db.Store.UpdateAsync(Examples.Patient("s"), ifMatchVersion: 1);

        var conflict = await Assert.ThrowsAsync<VersionConflictException>(() => db.Store.UpdateAsync(Examples.Patient("s"), ifMatchVersion: 1));

        Assert.Equal((1, 2), (conflict.ExpectedVersion, conflict.ActualVersion));
        Assert.Equal(2, (await db.Store.ReadAsync("Patient", "s-patient")).Version!.VersionId);
    }

    [Fact]
    public async Task If_match_on_a_resource_that_does_not_exist_is_a_conflict()
    {
        await using var db = await _backend.OpenAsync();
        var conflict = await Assert.ThrowsAsync<VersionConflictException>(() => db.Store.UpdateAsync(Examples.Patient("n"), ifMatchVersion: 1));
        Assert.Null(conflict.ActualVersion);
    }

    [Fact]
    public async Task Delete_is_a_new_version_that_reads_as_deleted_and_keeps_history()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.CreateAsync(Examples.Patient("d"));

        var deletion = await db.Store.DeleteAsync("Patient", "d-patient");
        var again = await db.Store.DeleteAsync("Patient", "d-patient");

        Assert.Equal((2, true), (deletion!.VersionId, deletion.IsDeleted));
        Assert.Equal(2, again!.VersionId);
        var read = await db.Store.ReadAsync("Patient", "d-patient");
        Assert.Equal(ReadStatus.Deleted, read.Status);
        Assert.Equal(ReadStatus.Deleted, (await db.Store.VReadAsync("Patient", "d-patient", 2)).Status);
        Assert.Equal(ReadStatus.Found, (await db.Store.VReadAsync("Patient", "d-patient", 1)).Status);
        Assert.Empty((await db.Store.SearchAsync(Search.SearchQuery.Parse("Patient", []))).Matches);

        var revived = await db.Store.UpdateAsync(Examples.Patient("d"));
        Assert.Equal((3, true), (revived.Stored.VersionId, revived.Created));
    }

    [Fact]
    public async Task Delete_of_an_unknown_resource_returns_null_and_writes_nothing()
    {
        await using var db = await _backend.OpenAsync();
        Assert.Null(await db.Store.DeleteAsync("Patient", "nobody"));
        Assert.Empty((await db.Store.HistoryAsync(new HistoryQuery())).Entries);
    }

    [Fact]
    public async Task Read_of_an_unknown_or_malformed_id_is_not_found()
    {
        await using var db = await _backend.OpenAsync();
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "missing")).Status);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "bad id!")).Status);
    }

    [Fact]
    public async Task A_malformed_client_id_is_rejected_with_the_rule()
    {
        await using var db = await _backend.OpenAsync();
        var patient = Examples.Patient("x");
        patient.Id = "has space";
        var error = await Assert.ThrowsAsync<InvalidStorageRequestException>(() => db.Store.UpdateAsync(patient));
        Assert.Contains("not a valid FHIR id", error.Message);
    }

    [Fact]
    public async Task History_lists_instance_type_and_system_versions_newest_first_with_since_and_paging()
    {
        await using var db = await _backend.OpenAsync();
        foreach (var resource in Examples.Record("h"))
            await db.Store.UpdateAsync(resource);
        var mark = await db.Store.CurrentChangeAsync();
        await db.Store.UpdateAsync(Examples.Patient("h"));
        await db.Store.DeleteAsync("Patient", "h-patient");

        var instance = await db.Store.HistoryAsync(new HistoryQuery("Patient", "h-patient"));
        Assert.Equal([3, 2, 1], instance.Entries.Select(e => e.VersionId));
        Assert.True(instance.Entries[0].IsDeleted);

        var observations = await db.Store.HistoryAsync(new HistoryQuery("Observation"));
        Assert.Equal(6, observations.Total);

        var since = await db.Store.HistoryAsync(new HistoryQuery(Since: mark.LastUpdated.AddMilliseconds(1)));
        Assert.Equal(2, since.Entries.Count);

        var first = await db.Store.HistoryAsync(new HistoryQuery(Count: 5));
        var second = await db.Store.HistoryAsync(new HistoryQuery(Count: 5, Cursor: first.Next));
        var third = await db.Store.HistoryAsync(new HistoryQuery(Count: 5, Cursor: second.Next));
        var all = first.Entries.Concat(second.Entries).Concat(third.Entries).ToList();
        Assert.Equal(14, all.Count);
        Assert.Null(third.Next);
        Assert.Equal(14, all.Select(e => e.VersionedReference).Distinct().Count());
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.ChangeSequence >= p.Second.ChangeSequence));
        Assert.Equal(first.Entries.Select(e => e.VersionedReference), (await db.Store.HistoryAsync(new HistoryQuery(Count: 5, Cursor: second.Previous))).Entries.Select(e => e.VersionedReference));
    }

    [Fact]
    public async Task Opening_the_same_database_twice_at_once_migrates_once_and_both_stores_work()
    {
        await using var db = await _backend.OpenAsync();
        var opens = await Task.WhenAll(ResourceStoreFactory.OpenAsync(db.Options), ResourceStoreFactory.OpenAsync(db.Options));
        try
        {
            await opens[0].CreateAsync(Examples.Patient("r1"));
            await opens[1].CreateAsync(Examples.Patient("r2"));
            Assert.Equal(ReadStatus.Found, (await db.Store.ReadAsync("Patient", "r1-patient")).Status);
            Assert.Equal(ReadStatus.Found, (await db.Store.ReadAsync("Patient", "r2-patient")).Status);
        }
        finally
        {
            foreach (var store in opens)
                await store.DisposeAsync();
        }
    }
}

public sealed class SqliteCrudTests : CrudContract<SqliteBackend>;

public sealed class PostgresCrudTests : CrudContract<PostgresBackend>;
