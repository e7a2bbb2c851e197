using System.Collections.Concurrent;
using System.Net;
using System.Text;
using FhirCaseService.Api.Export;
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
public abstract class ExportRecoveryTests(StorageProvider provider) : IAsyncLifetime
{
    private readonly string _output = ExportSettings.NewOutputDirectory();
    private SharedDatabase _database = null!;

    public Task InitializeAsync()
    {
        _database = SharedDatabase.For(provider);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        if (Directory.Exists(_output))
            Directory.Delete(_output, recursive: true);
    }

    private Task<ExportReplica> StartAsync(params (string Key, string Value)[] settings) =>
        ExportReplica.StartAsync(_database, ExportSettings.Fast(_output, settings));

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
        var directory = new DirectoryExportFiles(Path.Combine(_output));
        Directory.CreateDirectory(directory.JobDirectory(jobId));
        var committed = string.Concat(checkpointed.Select(r => r.Json + "\n"));
        var beyond = string.Concat(rows.Skip(3).Take(2).Select(r => r.Json + "\n")) + "{\"resourceType\":\"Obs";
        await File.WriteAllTextAsync(directory.PathOf(jobId, ExportProgress.FileName("Observation", 1)), committed + beyond);
        var progress = ExportProgress.Start(["Observation"]);
        progress.Types[0].AfterKey = checkpointed[^1].Key;
        progress.Types[0].FileLength = Encoding.UTF8.GetByteCount(committed);
        progress.Types[0].FileLines = 3;
        progress.Types[0].Written = 3;
        Assert.True(await client.Jobs.RenewAsync(jobId, "dead-replica", TimeSpan.FromSeconds(1), progress.Serialize()));
        await apiOnly.DisposeAsync();

        var runner = await StartAsync();
        try
        {
            var resumed = new ExportTestClient(runner);
            var manifest = await resumed.WaitForManifestAsync(kickOff.StatusUrl!);
            var exported = await resumed.DownloadAsync(manifest);
            Assert.Equal(rows.Select(r => r.Id).Order(), exported.Select(r => r.Id).Order());
            Assert.Equal(2, (await resumed.Jobs.GetAsync(jobId))!.Attempts);
        }
        finally
        {
            await runner.DisposeAsync();
        }
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

        var second = await StartAsync(("Lease", "00:00:01"));
        try
        {
            var resumed = new ExportTestClient(second);
            var exported = await resumed.DownloadAsync(await resumed.WaitForManifestAsync(kickOff.StatusUrl!));
            Assert.Equal(expected, exported.Count);
            Assert.Equal(expected, exported.Select(r => r.Id).Distinct().Count());
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task Expired_exports_lose_their_status_files_and_rows()
    {
        var replica = await StartAsync(("FileRetention", "00:00:01"));
        try
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
        }
        finally
        {
            await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task Database_output_serves_the_same_files_without_touching_the_disk()
    {
        var replica = await StartAsync(("Output", "Database"), ("DatabaseChunkBytes", "4096"));
        try
        {
            var client = new ExportTestClient(replica);
            await client.SeedAsync(patients: 2, observationsEach: 9);

            var manifest = await client.ExportAsync("/$export");

            var exported = await client.DownloadAsync(manifest);
            Assert.Equal(await client.CountAsync("Observation"), exported.Count(r => r.Type == "Observation"));
            Assert.Equal(exported.Count, exported.Select(r => r.Key).Distinct().Count());
            Assert.False(Directory.Exists(_output));
        }
        finally
        {
            await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task Chained_since_exports_under_concurrent_writers_hold_every_change_exactly_once()
    {
        var replica = await StartAsync(("CheckpointRows", "50"), ("MaxResourcesPerFile", "100"));
        try
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
                    if (i % 3 == 2)
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

            var exports = new List<(DateTimeOffset TransactionTime, List<ExportedResource> Resources)>();
            string? since = null;
            for (var k = 0; k < 5; k++)
            {
                if (k == 4)
                {
                    await stop.CancelAsync();
                    await Task.WhenAll(writers);
                }
                var query = "/$export?_type=Observation" + (since is null ? "" : "&_since=" + Uri.EscapeDataString(since));
                var manifest = await client.ExportAsync(query);
                exports.Add((DateTimeOffset.Parse(manifest.TransactionTime, System.Globalization.CultureInfo.InvariantCulture), await client.DownloadAsync(manifest)));
                since = manifest.TransactionTime;
            }

            Assert.True(writes.Count > 20, $"the writers wrote {writes.Count} changes only");
            var all = exports.SelectMany(e => e.Resources).ToList();
            Assert.Equal(all.Count, all.Select(r => $"{r.Id}/{r.Version}").Distinct().Count());
            var written = writes.ToList();
            for (var k = 0; k < exports.Count; k++)
            {
                var from = k == 0 ? DateTimeOffset.MinValue : exports[k - 1].TransactionTime;
                var to = exports[k].TransactionTime;
                // Export k holds, for each resource changed in (from, to], the version current at its transactionTime.
                var expected = written
                    .Where(w => Millis(w.LastUpdated) > from && Millis(w.LastUpdated) <= to)
                    .Select(w => w.Id).Distinct()
                    .Select(id => $"{id}/{written.Where(w => w.Id == id && Millis(w.LastUpdated) <= to).Max(w => w.VersionId)}")
                    .Order().ToList();
                var writerIds = written.Select(w => w.Id).ToHashSet();
                var actual = exports[k].Resources.Where(r => writerIds.Contains(r.Id)).Select(r => $"{r.Id}/{r.Version}").Order().ToList();
                Assert.Equal(expected, actual);
            }
        }
        finally
        {
            await replica.DisposeAsync();
        }
    }

    private static DateTimeOffset Millis(DateTimeOffset instant) => DateTimeOffset.FromUnixTimeMilliseconds(instant.ToUnixTimeMilliseconds());
}

public sealed class SqliteExportRecoveryTests() : ExportRecoveryTests(StorageProvider.Sqlite);

public sealed class PostgresExportRecoveryTests() : ExportRecoveryTests(StorageProvider.PostgreSql);
