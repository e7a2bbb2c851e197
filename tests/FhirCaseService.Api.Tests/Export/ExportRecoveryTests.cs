using System.Collections.Concurrent;
using System.Net;
using System.Text;
using FhirCaseService.Api.Export;
using FhirCaseService.Api.Tests.Jobs;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Export;

/// <summary>
/// Exports that outlive their runner (a replica that died mid-job, a process restart), expiry, database output, and
/// chained incremental exports while others write. Each test starts its own replicas over one database of its own, on
/// SQLite and PostgreSQL.
/// </summary>
public abstract class ExportRecoveryTests(StorageProvider provider)
    : ReplicaTests(provider, ExportSettings.NewOutputDirectory(), ExportSettings.Fast)
{
    [Fact]
    public async Task A_job_whose_replica_died_mid_write_is_resumed_with_every_resource_exactly_once()
    {
        // An API-only replica accepts the job; a "dead replica" claims it, checkpoints three lines, writes more lines
        // (and half a line) past its checkpoint, and never renews.
        var apiOnly = await StartAsync(("MaxConcurrentJobs", "0"));
        var client = new ExportTestClient(apiOnly);
        await client.SeedAsync(patients: 2, observationsEach: 6);
        var kickOff = await client.KickOffAsync("/$export?_type=Observation");
        var jobId = ExportTestClient.JobIdOf(kickOff.StatusUrl!);

        var dead = await client.Jobs.ClaimNextAsync("dead-replica", TimeSpan.FromSeconds(1));
        Assert.Equal(jobId, dead?.Id);
        var rows = new List<ExportRow>();
        await foreach (var row in client.Jobs.ReadAsync(dead!, "Observation", 0))
            rows.Add(row);
        var checkpointed = rows.Take(3).ToList();
        var directory = new DirectoryExportFiles(Path.Combine(ScratchDirectory));
        Directory.CreateDirectory(directory.JobDirectory(jobId));
        var committed = string.Concat(checkpointed.Select(r => r.Json + "\n"));
        var beyond = string.Concat(rows.Skip(3).Take(2).Select(r => r.Json + "\n")) + "{\"resourceType\":\"Obs";
        await File.WriteAllTextAsync(directory.PathOf(jobId, ExportCheckpoint.FileName("Observation", 1)), committed + beyond);
        var progress = ExportCheckpoint.Start(["Observation"]);
        progress.Types[0].AfterKey = checkpointed[^1].Key;
        progress.Types[0].FileLength = Encoding.UTF8.GetByteCount(committed);
        progress.Types[0].FileLines = 3;
        progress.Types[0].Written = 3;
        Assert.True(await client.Jobs.RenewAsync(jobId, "dead-replica", TimeSpan.FromSeconds(1), progress.Serialize()));
        await apiOnly.DisposeAsync();

        await OnReplicaAsync([], async runner =>
        {
            var resumed = new ExportTestClient(runner);
            var manifest = await resumed.WaitForManifestAsync(kickOff.StatusUrl!);
            var exported = await resumed.DownloadAsync(manifest);
            Assert.Equal(rows.Select(r => r.Id).Order(), exported.Select(r => r.Id).Order());
            Assert.Equal(2, (await resumed.Jobs.GetAsync(jobId))!.Attempts);
        });
    }

    [Fact]
    public async Task A_job_interrupted_by_a_process_restart_completes_on_the_next_process_without_duplicates()
    {
        var first = await StartAsync(("CheckpointRows", "5"), ("Lease", "00:00:01"));
        var client = new ExportTestClient(first);
        await client.SeedAsync(patients: 2, observationsEach: 40);
        var expected = await client.CountAsync("Observation");
        var kickOff = await client.KickOffAsync("/$export?_type=Observation");
        var jobId = ExportTestClient.JobIdOf(kickOff.StatusUrl!);
        await ExportTestClient.WaitUntilAsync(async () => (await client.Jobs.GetAsync(jobId))!.Status != ExportJobStatus.Queued, "the job is claimed");
        await first.DisposeAsync();

        await OnReplicaAsync([("Lease", "00:00:01")], async second =>
        {
            var resumed = new ExportTestClient(second);
            var exported = await resumed.DownloadAsync(await resumed.WaitForManifestAsync(kickOff.StatusUrl!));
            Assert.Equal(expected, exported.Count);
            Assert.Equal(expected, exported.Select(r => r.Id).Distinct().Count());
        });
    }

    [Fact]
    public async Task A_since_job_interrupted_by_a_process_restart_lists_each_deletion_once()
    {
        var first = await StartAsync(("CheckpointRows", "5"), ("Lease", "00:00:01"));
        var client = new ExportTestClient(first);
        await client.SeedAsync(patients: 2, observationsEach: 30);
        var before = await client.ExportAsync("/$export?_type=Observation");
        var observations = (await client.DownloadAsync(before)).Select(r => r.Id).ToList();
        foreach (var id in observations.Take(45))
            await client.Store.DeleteAsync("Observation", id);
        var kickOff = await client.KickOffAsync("/$export?_type=Observation&_since=" + Uri.EscapeDataString(before.TransactionTime));
        var jobId = ExportTestClient.JobIdOf(kickOff.StatusUrl!);
        await ExportTestClient.WaitUntilAsync(async () => (await client.Jobs.GetAsync(jobId))!.Status != ExportJobStatus.Queued, "the job is claimed");
        await first.DisposeAsync();

        await OnReplicaAsync([("Lease", "00:00:01")], async second =>
        {
            var resumed = new ExportTestClient(second);
            var deleted = await ExportDeletions.DownloadAsync(resumed, await resumed.WaitForManifestAsync(kickOff.StatusUrl!));
            Assert.Equal(observations.Take(45).Select(id => $"Observation/{id}").Order(), deleted.Order());
        });
    }

    [Fact]
    public async Task Expired_exports_lose_their_status_files_and_rows()
    {
        await OnReplicaAsync([("FileRetention", "00:00:01")], async replica =>
        {
            var client = new ExportTestClient(replica);
            await client.SeedAsync(patients: 1, observationsEach: 2);
            var kickOff = await client.KickOffAsync("/$export");
            var manifest = await client.WaitForManifestAsync(kickOff.StatusUrl!);
            var jobId = ExportTestClient.JobIdOf(kickOff.StatusUrl!);
            Assert.True(Directory.Exists(client.DirectoryFiles.JobDirectory(jobId)));

            await ExportTestClient.WaitUntilAsync(async () => await client.Jobs.GetAsync(jobId) is null, "the cleanup removes the job");

            Assert.False(Directory.Exists(client.DirectoryFiles.JobDirectory(jobId)));
            Assert.Equal(HttpStatusCode.NotFound, (await replica.Client.GetAsync(kickOff.StatusUrl)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await replica.Client.GetAsync(manifest.Output[0].Url)).StatusCode);
        });
    }

    [Fact]
    public async Task DatabaseScratchDirectory_serves_the_same_files_without_touching_the_disk()
    {
        await OnReplicaAsync([("Output", "Database"), ("DatabaseChunkBytes", "4096")], async replica =>
        {
            var client = new ExportTestClient(replica);
            await client.SeedAsync(patients: 2, observationsEach: 9);

            var manifest = await client.ExportAsync("/$export");

            var exported = await client.DownloadAsync(manifest);
            Assert.Equal(await client.CountAsync("Observation"), exported.Count(r => r.Type == "Observation"));
            Assert.Equal(exported.Count, exported.Select(r => r.Key).Distinct().Count());
            Assert.False(Directory.Exists(ScratchDirectory));
        });
    }

    [Fact]
    public async Task Chained_since_exports_under_concurrent_writers_hold_every_change_and_deletion_exactly_once()
    {
        await OnReplicaAsync([("CheckpointRows", "50"), ("MaxResourcesPerFile", "100")], async replica =>
        {
            var client = new ExportTestClient(replica);
            var patients = await client.SeedAsync(patients: 3, observationsEach: 1);
            var writes = new ConcurrentBag<StoredResource>();
            using var stop = new CancellationTokenSource();
            var writers = patients.Select(patient => Task.Run(async () =>
            {
                var mine = new List<Observation>();
                for (var i = 0; !stop.IsCancellationRequested && i < 80; i++)
                {
                    StoredResource written;
                    if (i % 9 == 8)
                    {
                        var index = i % mine.Count;
                        written = (await client.Store.DeleteAsync("Observation", mine[index].Id!))!;
                        mine.RemoveAt(index);
                    }
                    else if (i % 3 == 2)
                    {
                        var index = i % mine.Count;
                        mine[index].Value = new Quantity(i, "%");
                        written = (await client.Store.UpdateAsync(mine[index])).Stored;
                        mine[index] = (Observation)written.Resource!;
                    }
                    else
                    {
                        written = await client.CreateObservationAsync(patient.Id!);
                        mine.Add((Observation)written.Resource!);
                    }
                    writes.Add(written);
                    await Task.Delay(5);
                }
            })).ToList();

            var exports = new List<(DateTimeOffset TransactionTime, List<ExportedResource> Resources, List<string> Deleted)>();
            string? since = null;
            for (var k = 0; k < 5; k++)
            {
                if (k == 4)
                {
                    // On a loaded machine four exports can finish before the writers have deleted enough to test:
                    // the last export waits for that instead of depending on their relative speed.
                    await ExportTestClient.WaitUntilAsync(() => Task.FromResult(writes.Count(w => w.IsDeleted) > 3), "the writers have deleted more than 3 resources");
                    await stop.CancelAsync();
                    await Task.WhenAll(writers);
                }
                var query = "/$export?_type=Observation" + (since is null ? "" : "&_since=" + Uri.EscapeDataString(since));
                var manifest = await client.ExportAsync(query);
                exports.Add((DateTimeOffset.Parse(manifest.TransactionTime, System.Globalization.CultureInfo.InvariantCulture),
                    await client.DownloadAsync(manifest), await ExportDeletions.DownloadAsync(client, manifest)));
                since = manifest.TransactionTime;
            }

            Assert.True(writes.Count > 20, $"the writers wrote {writes.Count} changes only");
            Assert.True(writes.Count(w => w.IsDeleted) > 3, $"the writers deleted {writes.Count(w => w.IsDeleted)} resources only");
            var all = exports.SelectMany(e => e.Resources).ToList();
            Assert.Equal(all.Count, all.Select(r => $"{r.Id}/{r.Version}").Distinct().Count());
            var written = writes.ToList();
            var writerIds = written.Select(w => w.Id).ToHashSet();
            for (var k = 0; k < exports.Count; k++)
            {
                var from = k == 0 ? DateTimeOffset.MinValue : exports[k - 1].TransactionTime;
                var to = exports[k].TransactionTime;
                // Export k holds, for each resource changed in (from, to], the version current at its transactionTime:
                // in the output when that version is live, in the deleted files when it is a deletion (only with _since).
                var current = written
                    .Where(w => Millis(w.LastUpdated) > from && Millis(w.LastUpdated) <= to)
                    .Select(w => w.Id).Distinct()
                    .Select(id => written.Where(w => w.Id == id && Millis(w.LastUpdated) <= to).MaxBy(w => w.VersionId)!)
                    .ToList();
                var expected = current.Where(w => !w.IsDeleted).Select(w => $"{w.Id}/{w.VersionId}").Order().ToList();
                var actual = exports[k].Resources.Where(r => writerIds.Contains(r.Id)).Select(r => $"{r.Id}/{r.Version}").Order().ToList();
                Assert.Equal(expected, actual);
                var expectedDeleted = k == 0 ? [] : current.Where(w => w.IsDeleted).Select(w => $"Observation/{w.Id}").Order().ToList();
                Assert.Equal(expectedDeleted, exports[k].Deleted.Order().ToList());
            }
        });
    }

    [Fact]
    public async Task A_since_export_lists_each_deletion_since_then_once_and_exports_without_since_list_none()
    {
        await OnReplicaAsync([("MaxResourcesPerFile", "5"), ("CheckpointRows", "3")], async replica =>
        {
            var client = new ExportTestClient(replica);
            var patients = await client.SeedAsync(patients: 2, observationsEach: 7);
            var observations = await IdsAsync(client, "Observation");
            var first = await client.ExportAsync("/$export?_type=Observation");

            // Twelve deletions of resources the registry holds (more than two files of five), one of them deleted a second
            // time (no new version), one deleted and created again under its id, one created and deleted within the
            // window, one updated, and a deleted Condition, which an Observation export does not list.
            var deletedIds = observations.Take(12).ToList();
            foreach (var id in deletedIds)
                await client.Store.DeleteAsync("Observation", id);
            await client.Store.DeleteAsync("Observation", deletedIds[0]);
            var recreated = observations[12];
            await client.Store.DeleteAsync("Observation", recreated);
            var again = (Observation)(await client.Store.ReadAsync("Observation", observations[13])).Version!.Resource!;
            again.Id = recreated;
            await client.Store.UpdateAsync(again);
            var transient = (await client.CreateObservationAsync(patients[0].Id!)).Id;
            await client.Store.DeleteAsync("Observation", transient);
            var updated = (Observation)(await client.Store.ReadAsync("Observation", observations[13])).Version!.Resource!;
            updated.Value = new Quantity(2, "%");
            await client.Store.UpdateAsync(updated);
            await client.Store.DeleteAsync("Condition", (await IdsAsync(client, "Condition"))[0]);

            var second = await client.ExportAsync("/$export?_type=Observation&_since=" + Uri.EscapeDataString(first.TransactionTime));

            var deleted = await ExportDeletions.DownloadAsync(client, second);
            // A resource created and deleted within the window is listed too: a registry that pulled an overlapping window
            // may hold it, and a DELETE of a resource it does not hold changes nothing.
            Assert.Equal(deletedIds.Append(transient).Select(id => $"Observation/{id}").Order(), deleted.Order());
            Assert.Equal(3, JsonDeletedFileCount(await second.Response.Content.ReadAsStringAsync()));
            var output = await client.DownloadAsync(second);
            Assert.Equal([recreated, observations[13]], output.Select(r => r.Id).Order());

            var full = await client.ExportAsync("/$export?_type=Observation,Condition");
            Assert.Empty(await ExportDeletions.DownloadAsync(client, full));
            Assert.DoesNotContain(await client.DownloadAsync(full), r => deletedIds.Contains(r.Id) || r.Id == transient);
            var quiet = await client.ExportAsync("/$export?_type=Observation&_since=" + Uri.EscapeDataString(second.TransactionTime));
            Assert.Empty(await ExportDeletions.DownloadAsync(client, quiet));
        });
    }

    [Fact]
    public async Task A_since_export_lists_only_deletions_within_its_group_and_type_filter()
    {
        await OnReplicaAsync([], async replica =>
        {
            var client = new ExportTestClient(replica);
            var patients = await client.SeedAsync(patients: 2, observationsEach: 0);
            var member = patients[0].Id!;
            var outsider = patients[1].Id!;
            var group = (await client.Store.CreateAsync(new Group
            {
                Type = Group.GroupType.Person,
                Actual = true,
                Member = [new Group.MemberComponent { Entity = new ResourceReference($"Patient/{member}") }],
            })).Id;
            var memberCd22 = (await client.CreateObservationAsync(member, "51124-6")).Id;
            var memberOther = (await client.CreateObservationAsync(member, "51125-3")).Id;
            var outsiderCd22 = (await client.CreateObservationAsync(outsider, "51124-6")).Id;
            var before = await client.ExportAsync("/$export?_type=Observation");
            foreach (var id in new[] { memberCd22, memberOther, outsiderCd22 })
                await client.Store.DeleteAsync("Observation", id);
            var since = "&_since=" + Uri.EscapeDataString(before.TransactionTime);

            var groupExport = await client.ExportAsync($"/Group/{group}/$export?_type=Observation{since}");
            var filtered = await client.ExportAsync($"/$export?_typeFilter={Uri.EscapeDataString("Observation?code=http://loinc.org|51124-6")}{since}");
            var patientLevel = await client.ExportAsync($"/Patient/$export?_type=Observation{since}");

            // A deletion has no content: group membership and filters are judged on the version it deleted.
            Assert.Equal([$"Observation/{memberCd22}", $"Observation/{memberOther}"], (await ExportDeletions.DownloadAsync(client, groupExport)).Order());
            Assert.Equal([$"Observation/{memberCd22}", $"Observation/{outsiderCd22}"], (await ExportDeletions.DownloadAsync(client, filtered)).Order());
            Assert.Equal(3, (await ExportDeletions.DownloadAsync(client, patientLevel)).Count);
        });
    }

    private static async Task<List<string>> IdsAsync(ExportTestClient client, string type) =>
        [.. (await client.DownloadAsync(await client.ExportAsync($"/$export?_type={type}"))).Select(r => r.Id).Order()];

    private static int JsonDeletedFileCount(string manifest)
    {
        using var json = System.Text.Json.JsonDocument.Parse(manifest);
        return json.RootElement.GetProperty("deleted").GetArrayLength();
    }

    private static DateTimeOffset Millis(DateTimeOffset instant) => DateTimeOffset.FromUnixTimeMilliseconds(instant.ToUnixTimeMilliseconds());
}

public sealed class SqliteExportRecoveryTests() : ExportRecoveryTests(StorageProvider.Sqlite);

public sealed class PostgresExportRecoveryTests() : ExportRecoveryTests(StorageProvider.PostgreSql);
