using System.Net;
using System.Text;
using FhirCaseService.Api.Tests.Jobs;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Import;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Import;

/// <summary>
/// Imports that outlive their runner (a replica that died after some chunks, a process restart) and cancellation before
/// a job runs. Each test starts its own replicas over one database of its own, on SQLite and PostgreSQL.
/// </summary>
public abstract class ImportRecoveryTests(StorageProvider provider)
    : ReplicaTests(provider, ImportSettings.NewSpoolDirectory(), ImportSettings.Fast)
{
    /// <summary>Patients with ids and, after each, an Observation without one (re-importing those would duplicate them).</summary>
    private static List<string> Input(int patients, string prefix) =>
        [.. Enumerable.Range(0, patients).SelectMany(i => new[]
        {
            ImportTestClient.Patient($"{prefix}-{i}"),
            ImportTestClient.Observation(null, $"{prefix}-{i}"),
        })];

    [Fact]
    public async Task A_job_whose_replica_died_after_a_chunk_resumes_after_it_with_every_line_stored_once()
    {
        // An API-only replica accepts the job; a "dead replica" claims it, commits the first ten lines as one chunk and
        // never renews its lease.
        var apiOnly = await StartAsync(("MaxConcurrentJobs", "0"), ("Lease", "00:00:01"));
        var client = new ImportTestClient(apiOnly);
        var lines = Input(15, "dead");
        var kickOff = await client.KickOffAsync(ImportTestClient.Ndjson(lines));
        var jobId = ImportTestClient.JobIdOf(kickOff.StatusUrl!);
        var dead = await client.Jobs.ClaimNextAsync("dead-replica", TimeSpan.FromSeconds(1));
        Assert.Equal(jobId, dead?.Id);
        var store = apiOnly.Services.GetRequiredService<IResourceStore>();
        var writes = lines.Take(10).Select(line =>
        {
            var resource = FhirSerialization.StrictJson.DeserializeResource(line);
            var create = string.IsNullOrEmpty(resource.Id);
            if (create)
                resource.Id = store.NewId();
            return new PreparedWrite(store.Prepare(resource), create ? PreparedWriteKind.Create : PreparedWriteKind.Update);
        }).ToList();
        var endByte = lines.Take(10).Sum(l => Encoding.UTF8.GetByteCount(l) + 1L);
        Assert.NotNull(await client.Jobs.CommitChunkAsync(jobId, "dead-replica", TimeSpan.FromSeconds(1), new ImportChunk(1, 10, endByte, writes, [])));
        await apiOnly.DisposeAsync();

        await OnReplicaAsync([("Lease", "00:00:01")], async runner =>
        {
            var resumed = new ImportTestClient(runner);
            var manifest = await resumed.WaitForManifestAsync(kickOff.StatusUrl!);

            Assert.Equal((15L, 15L, 0L, 0L), manifest.Output("Patient"));
            Assert.Equal((15L, 15L, 0L, 0L), manifest.Output("Observation"));
            Assert.Equal(15, await resumed.CountAsync("Observation"));
            for (var i = 0; i < 15; i++)
                Assert.Equal(1, await resumed.VersionsAsync("Patient", $"dead-{i}"));
            Assert.Equal(2, (await resumed.Jobs.GetAsync(jobId))!.Attempts);
        });
    }

    [Fact]
    public async Task An_import_interrupted_by_a_process_restart_completes_on_the_next_process_without_duplicates()
    {
        var first = await StartAsync(("ChunkLines", "5"), ("Lease", "00:00:01"));
        var client = new ImportTestClient(first);
        var kickOff = await client.KickOffAsync(ImportTestClient.Ndjson(Input(150, "restart")));
        var jobId = ImportTestClient.JobIdOf(kickOff.StatusUrl!);
        await ImportTestClient.WaitUntilAsync(async () => (await client.Jobs.GetAsync(jobId))!.CommittedLines > 0, "the first chunk is committed");
        await first.DisposeAsync();

        await OnReplicaAsync([("Lease", "00:00:01")], async second =>
        {
            var resumed = new ImportTestClient(second);
            // A loaded 2-core machine: give the resumed job time rather than fail on speed.
            var manifest = await resumed.WaitForManifestAsync(kickOff.StatusUrl!, timeout: TimeSpan.FromMinutes(3));
            Assert.Equal(150L, manifest.Output("Patient").Count);
            Assert.Equal(150L, manifest.Output("Observation").Count);
            Assert.Equal(150, await resumed.CountAsync("Observation"));
            Assert.Equal(150, await resumed.CountAsync("Patient"));
        });
    }

    [Fact]
    public async Task A_job_cancelled_before_it_ran_is_never_run_and_its_status_answers_404()
    {
        var apiOnly = await StartAsync(("MaxConcurrentJobs", "0"));
        var client = new ImportTestClient(apiOnly);
        var cancelledJob = await client.KickOffAsync(ImportTestClient.Ndjson([ImportTestClient.Patient("never-stored")]));
        using var cancel = await client.Http.DeleteAsync(ImportTestClient.OnThisHost(cancelledJob.StatusUrl!));
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await apiOnly.DisposeAsync();

        await OnReplicaAsync([], async runner =>
        {
            var resumed = new ImportTestClient(runner);
            // Jobs are claimed oldest first: once a later job has run, the cancelled one would have run before it.
            await resumed.ImportAsync([ImportTestClient.Patient("stored-later")]);

            using var status = await runner.Client.GetAsync(ImportTestClient.OnThisHost(cancelledJob.StatusUrl!));
            Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
            using var read = await runner.Client.GetAsync("/Patient/never-stored");
            Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        });
    }
}

public sealed class SqliteImportRecoveryTests() : ImportRecoveryTests(StorageProvider.Sqlite);

public sealed class PostgresImportRecoveryTests() : ImportRecoveryTests(StorageProvider.PostgreSql);
