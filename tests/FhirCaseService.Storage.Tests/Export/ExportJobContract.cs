using System.Text;
using FhirCaseService.Storage.Export;
using FhirCaseService.Storage.Persistence;
using static FhirCaseService.Storage.Tests.Export.ExportHarness;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Export;

/// <summary>Export job state shared by replicas: claims, leases, transitions, expiry, and files kept in the database.</summary>
public abstract class ExportJobContract<TBackend> where TBackend : IStoreBackend, new()
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly TBackend _backend = new();

    [Fact]
    public async Task A_created_job_is_queued_and_reads_back_with_its_request()
    {
        await using var h = await OpenAsync(_backend);
        var since = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
        var request = Request(ExportLevel.Patient, ["Patient", "Observation"], since: since, typeFilters: ["Observation?code=mrd"],
            patientIds: ["p1"], includeDeleted: true);

        var created = await h.Jobs.CreateAsync(request);
        var read = await h.Jobs.GetAsync(created.Id);

        Assert.NotNull(read);
        Assert.Equal((ExportJobStatus.Queued, 0, (string?)null), (read.Status, read.Attempts, read.Owner));
        Assert.Equal(created.TransactionTime, read.TransactionTime);
        Assert.Equal(h.Clock.GetUtcNow(), read.CreatedAt);
        Assert.Equal((request.Level, request.Since, request.RequestUrl, request.ClientId, request.IncludeDeleted, request.GroupId),
            (read.Request.Level, read.Request.Since, read.Request.RequestUrl, read.Request.ClientId, read.Request.IncludeDeleted, read.Request.GroupId));
        Assert.Equal(request.Types, read.Request.Types);
        Assert.Equal(request.TypeFilters, read.Request.TypeFilters);
        Assert.Equal(request.PatientIds, read.Request.PatientIds);
        Assert.Null(await h.Jobs.GetAsync("no-such-job"));
    }

    [Fact]
    public async Task Each_job_is_claimed_by_exactly_one_of_many_concurrent_claimers_across_replicas()
    {
        await using var h = await OpenAsync(_backend);
        var jobs = new List<string>();
        for (var i = 0; i < 5; i++)
            jobs.Add((await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]))).Id);
        var replicas = new List<StorageDatabase>();
        try
        {
            for (var i = 0; i < 3; i++)
                replicas.Add(new StorageDatabase(h.Options));
            var stores = replicas.Select(r => new ExportJobStore(r, h.Clock)).Append(h.Jobs).ToList();

            var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
            {
                var mine = new List<ExportJob>();
                while (await stores[worker % stores.Count].ClaimNextAsync($"worker-{worker}", Lease) is { } job)
                    mine.Add(job);
                return mine;
            })));

            var claimed = claims.SelectMany(c => c).ToList();
            Assert.Equal(jobs.Order(), claimed.Select(c => c.Id).Order());
            Assert.All(claimed, c => Assert.Equal((ExportJobStatus.Running, 1), (c.Status, c.Attempts)));
            foreach (var job in claimed)
                Assert.Equal(job.Owner, (await h.Jobs.GetAsync(job.Id))!.Owner);
        }
        finally
        {
            foreach (var replica in replicas)
                await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_oldest_queued_job_is_claimed_first()
    {
        await using var h = await OpenAsync(_backend);
        var first = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        var second = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));

        Assert.Equal(first.Id, (await h.Jobs.ClaimNextAsync("a", Lease))!.Id);
        Assert.Equal(second.Id, (await h.Jobs.ClaimNextAsync("a", Lease))!.Id);
        Assert.Null(await h.Jobs.ClaimNextAsync("a", Lease));
    }

    [Fact]
    public async Task A_job_whose_lease_ran_out_is_claimed_again_by_another_owner_and_the_old_owner_is_told_to_stop()
    {
        await using var h = await OpenAsync(_backend);
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        var claimed = await h.Jobs.ClaimNextAsync("replica-a", Lease);
        Assert.True(await h.Jobs.RenewAsync(job.Id, "replica-a", Lease, "{\"Patient\":42}"));

        Assert.Null(await h.Jobs.ClaimNextAsync("replica-b", Lease));
        h.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var reclaimed = await h.Jobs.ClaimNextAsync("replica-b", Lease);

        Assert.Equal((job.Id, "replica-a", 1), (claimed!.Id, claimed.Owner, claimed.Attempts));
        Assert.NotNull(reclaimed);
        Assert.Equal((job.Id, "replica-b", 2, "{\"Patient\":42}"), (reclaimed.Id, reclaimed.Owner, reclaimed.Attempts, reclaimed.ProgressJson));
        Assert.Equal(h.Clock.GetUtcNow() + Lease, reclaimed.LeaseUntil);
        Assert.False(await h.Jobs.RenewAsync(job.Id, "replica-a", Lease, null));
        Assert.False(await h.Jobs.CompleteAsync(job.Id, "replica-a", "{}", h.Clock.GetUtcNow().AddHours(1)));
        Assert.True(await h.Jobs.RenewAsync(job.Id, "replica-b", Lease, null));
        Assert.Equal("{\"Patient\":42}", (await h.Jobs.GetAsync(job.Id))!.ProgressJson);
    }

    [Fact]
    public async Task Renewing_a_cancelled_job_or_another_owners_job_answers_false()
    {
        await using var h = await OpenAsync(_backend);
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        await h.Jobs.ClaimNextAsync("owner", Lease);

        Assert.False(await h.Jobs.RenewAsync(job.Id, "someone-else", Lease, null));
        Assert.True(await h.Jobs.CancelAsync(job.Id, h.Clock.GetUtcNow().AddHours(1)));
        Assert.False(await h.Jobs.RenewAsync(job.Id, "owner", Lease, null));
        Assert.False(await h.Jobs.CompleteAsync(job.Id, "owner", "{}", h.Clock.GetUtcNow().AddHours(1)));
        Assert.Null(await h.Jobs.ClaimNextAsync("owner", Lease));
    }

    [Fact]
    public async Task Complete_fail_and_cancel_move_a_job_only_from_the_states_they_allow()
    {
        await using var h = await OpenAsync(_backend);
        var expires = h.Clock.GetUtcNow().AddHours(1);
        var completed = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        await h.Jobs.ClaimNextAsync("owner", Lease);
        var failed = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        await h.Jobs.ClaimNextAsync("owner", Lease);
        var queued = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));

        Assert.False(await h.Jobs.CompleteAsync(completed.Id, "intruder", "{}", expires));
        Assert.False(await h.Jobs.CompleteAsync(queued.Id, "owner", "{}", expires));
        Assert.True(await h.Jobs.CompleteAsync(completed.Id, "owner", "{\"output\":[]}", expires));
        Assert.False(await h.Jobs.FailAsync(failed.Id, "intruder", "boom", expires));
        Assert.True(await h.Jobs.FailAsync(failed.Id, "owner", "The disk is full.", expires));
        Assert.False(await h.Jobs.FailAsync(completed.Id, "owner", "late", expires));

        var done = (await h.Jobs.GetAsync(completed.Id))!;
        Assert.Equal((ExportJobStatus.Completed, "{\"output\":[]}", expires, (DateTimeOffset?)null), (done.Status, done.ResultJson, done.ExpiresAt, done.LeaseUntil));
        var broken = (await h.Jobs.GetAsync(failed.Id))!;
        Assert.Equal((ExportJobStatus.Failed, "The disk is full."), (broken.Status, broken.Error));

        Assert.True(await h.Jobs.CancelAsync(queued.Id, expires));
        Assert.True(await h.Jobs.CancelAsync(completed.Id, expires));
        Assert.False(await h.Jobs.CancelAsync(completed.Id, expires));
        Assert.False(await h.Jobs.CancelAsync(failed.Id, expires));
        Assert.False(await h.Jobs.CancelAsync("no-such-job", expires));
        Assert.Equal(ExportJobStatus.Cancelled, (await h.Jobs.GetAsync(queued.Id))!.Status);
        Assert.Equal(ExportJobStatus.Cancelled, (await h.Jobs.GetAsync(completed.Id))!.Status);
        Assert.Null(await h.Jobs.ClaimNextAsync("owner", Lease));
    }

    [Fact]
    public async Task Expired_jobs_are_listed_for_cleanup_and_deleting_one_removes_its_members_and_files()
    {
        await using var h = await OpenAsync(_backend);
        await h.Resources.CreateAsync(Group("series", ("p1", false), ("p2", false)));
        var now = h.Clock.GetUtcNow();
        var old = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "series"));
        await h.Jobs.ClaimNextAsync("owner", Lease);
        await h.Jobs.WriteFileChunkAsync(old.Id, "Patient-1.ndjson", 0, "{}\n"u8.ToArray());
        await h.Jobs.CompleteAsync(old.Id, "owner", "{}", now.AddMinutes(5));
        var cancelled = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        await h.Jobs.CancelAsync(cancelled.Id, now.AddMinutes(1));
        var fresh = await h.Jobs.CreateAsync(Request(ExportLevel.Group, ["Patient"], groupId: "series"));
        await h.Jobs.ClaimNextAsync("owner", Lease);
        await h.Jobs.WriteFileChunkAsync(fresh.Id, "Patient-1.ndjson", 0, "{}\n"u8.ToArray());
        await h.Jobs.CompleteAsync(fresh.Id, "owner", "{}", now.AddHours(1));
        await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));

        var expired = await h.Jobs.ExpiredAsync(now.AddMinutes(10), 10);
        Assert.Equal([cancelled.Id, old.Id], expired.Select(j => j.Id));
        Assert.Single(await h.Jobs.ExpiredAsync(now.AddMinutes(10), 1));

        await h.Jobs.DeleteAsync(old.Id);

        Assert.Null(await h.Jobs.GetAsync(old.Id));
        Assert.Equal(0, await CountAsync(h, "export_member", old.Id));
        Assert.Equal(0, await CountAsync(h, "export_file", old.Id));
        Assert.Equal(2, await CountAsync(h, "export_member", fresh.Id));
        Assert.Equal(1, await CountAsync(h, "export_file", fresh.Id));
        Assert.Equal([cancelled.Id], (await h.Jobs.ExpiredAsync(now.AddMinutes(10), 10)).Select(j => j.Id));
    }

    [Fact]
    public async Task File_chunks_read_back_in_order_and_truncation_drops_the_tail()
    {
        await using var h = await OpenAsync(_backend);
        var job = await h.Jobs.CreateAsync(Request(ExportLevel.System, ["Patient"]));
        await h.Jobs.WriteFileChunkAsync(job.Id, "Patient-1.ndjson", 1, Encoding.UTF8.GetBytes("line 2\n"));
        await h.Jobs.WriteFileChunkAsync(job.Id, "Patient-1.ndjson", 0, Encoding.UTF8.GetBytes("line 1\n"));
        await h.Jobs.WriteFileChunkAsync(job.Id, "Patient-1.ndjson", 2, Encoding.UTF8.GetBytes("line 3\n"));
        await h.Jobs.WriteFileChunkAsync(job.Id, "Observation-1.ndjson", 0, Encoding.UTF8.GetBytes("other\n"));

        Assert.Equal("line 1\nline 2\nline 3\n", await ReadTextAsync(h, job.Id, "Patient-1.ndjson"));

        await h.Jobs.TruncateFileAsync(job.Id, "Patient-1.ndjson", 1);
        await h.Jobs.WriteFileChunkAsync(job.Id, "Patient-1.ndjson", 1, Encoding.UTF8.GetBytes("line 2 again\n"));
        await h.Jobs.WriteFileChunkAsync(job.Id, "Patient-1.ndjson", 1, Encoding.UTF8.GetBytes("line 2 rewritten\n"));

        Assert.Equal("line 1\nline 2 rewritten\n", await ReadTextAsync(h, job.Id, "Patient-1.ndjson"));
        Assert.Equal("other\n", await ReadTextAsync(h, job.Id, "Observation-1.ndjson"));
        Assert.Equal("", await ReadTextAsync(h, job.Id, "no-such-file.ndjson"));
    }

    private static async Task<string> ReadTextAsync(ExportHarness h, string jobId, string fileName)
    {
        var text = new StringBuilder();
        await foreach (var chunk in h.Jobs.ReadFileAsync(jobId, fileName))
            text.Append(Encoding.UTF8.GetString(chunk.Span));
        return text.ToString();
    }

    private static async Task<long> CountAsync(ExportHarness h, string table, string jobId)
    {
        var dialect = await h.Database.DialectAsync(CancellationToken.None);
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        var sql = new SqlText(dialect);
        sql.Append($"SELECT COUNT(*) FROM {table} WHERE job_id = {sql.P(jobId)}");
        await using var command = sql.CreateCommand(connection, null);
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }
}

public sealed class SqliteExportJobTests : ExportJobContract<SqliteBackend>;

public sealed class PostgresExportJobTests : ExportJobContract<PostgresBackend>;
