using FhirCaseService.Storage.Import;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Tests.Export;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Import;

/// <summary>
/// Import job state shared by replicas: claims and leases, and chunks whose resources, refused lines and the job's
/// position commit together, so a resumed job neither repeats nor loses a line.
/// </summary>
public abstract class ImportJobContract<TBackend> where TBackend : IStoreBackend, new()
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly TBackend _backend = new();

    private sealed class Harness : IAsyncDisposable
    {
        private readonly TestStore _db;

        private Harness(TestStore db, StorageDatabase database, IResourceStore resources)
        {
            _db = db;
            Database = database;
            Resources = resources;
            Jobs = new ImportJobStore(database, Clock);
        }

        public StorageDatabase Database { get; }
        public IResourceStore Resources { get; }
        public ImportJobStore Jobs { get; }
        public SettableClock Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));
        public StorageOptions Options => _db.Options;

        public static async Task<Harness> OpenAsync(IStoreBackend backend)
        {
            var db = await backend.OpenAsync();
            var database = new StorageDatabase(db.Options);
            return new Harness(db, database, await database.ResourcesAsync(CancellationToken.None));
        }

        public async ValueTask DisposeAsync()
        {
            await Database.DisposeAsync();
            await _db.DisposeAsync();
        }
    }

    private static ImportRequest Request(long lines = 10) =>
        new("https://fhircase.example.org/fhir/$import", "ehr-client", "/spool/job.ndjson", 1000, lines, ["Patient", "Observation"]);

    private static string NewJobId() => Guid.CreateVersion7().ToString("N");

    private PreparedWrite Write(Harness h, string id, string family) =>
        new(h.Resources.Prepare(new Patient { Id = id, Name = [new HumanName { Family = family }] }), PreparedWriteKind.Update, KeepUnchanged: true);

    [Fact]
    public async Task A_created_job_is_queued_and_reads_back_with_its_request()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();

        await h.Jobs.CreateAsync(id, Request());
        var read = await h.Jobs.GetAsync(id);

        Assert.NotNull(read);
        Assert.Equal((ImportJobStatus.Queued, 0, 0L, 0L, 0L), (read.Status, read.Attempts, read.CommittedLines, read.CommittedBytes, read.ErrorLines));
        Assert.Equal(Request() with { WritableTypes = read.Request.WritableTypes }, read.Request);
        Assert.Equal(["Patient", "Observation"], read.Request.WritableTypes);
        Assert.Empty(read.Counts);
        Assert.Null(await h.Jobs.GetAsync(NewJobId()));
    }

    [Fact]
    public async Task Each_job_is_claimed_once_and_again_only_after_its_lease_lapsed()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());

        var first = await h.Jobs.ClaimNextAsync("replica-a", Lease);
        var meanwhile = await h.Jobs.ClaimNextAsync("replica-b", Lease);
        h.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        var takeover = await h.Jobs.ClaimNextAsync("replica-b", Lease);

        Assert.Equal((id, ImportJobStatus.Running, 1), (first?.Id, first?.Status, first?.Attempts));
        Assert.Null(meanwhile);
        Assert.Equal((id, "replica-b", 2), (takeover?.Id, takeover?.Owner, takeover?.Attempts));
        Assert.False(await h.Jobs.RenewAsync(id, "replica-a", Lease));
        Assert.True(await h.Jobs.RenewAsync(id, "replica-b", Lease));
    }

    [Fact]
    public async Task A_chunk_stores_its_resources_errors_counts_and_position_together()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Resources.CreateAsync(new Patient { Id = "known", Name = [new HumanName { Family = "Same" }] });
        await h.Jobs.ClaimNextAsync("runner", Lease);

        var chunk = new ImportChunk(1, 4, 400,
            [Write(h, "known", "Same"), Write(h, "fresh", "A"), Write(h, "fresh", "B")],
            [new ImportLineError(3, "{\"resourceType\":\"OperationOutcome\"}")]);
        var after = await h.Jobs.CommitChunkAsync(id, "runner", Lease, chunk);

        Assert.NotNull(after);
        Assert.Equal((4L, 400L, 1L), (after.CommittedLines, after.CommittedBytes, after.ErrorLines));
        Assert.Equal([new ImportTypeCount("Patient", 1, 1, 1)], after.Counts);
        var fresh = await h.Resources.ReadAsync("Patient", "fresh");
        Assert.Equal(("2", "B"), (fresh.Version!.Resource!.Meta!.VersionId, ((Patient)fresh.Version.Resource).Name[0].Family));
        Assert.Equal("1", (await h.Resources.ReadAsync("Patient", "known")).Version!.Resource!.Meta!.VersionId);
        var errors = new List<ImportLineError>();
        await foreach (var error in h.Jobs.ReadErrorsAsync(id))
            errors.Add(error);
        Assert.Equal([3L], errors.Select(e => e.Line));
    }

    /// <summary>
    /// Right after a bulk load PostgreSQL planned searches from a sample autovacuum took part-way through the load (or
    /// none): a job that wrote a tenth of the store or more analyzes the tables it filled before it completes. A small job
    /// into a large store leaves them to autovacuum. SQLite's plans do not use statistics; none are made there.
    /// </summary>
    [Fact]
    public async Task A_job_that_wrote_a_tenth_of_the_store_or_more_leaves_its_tables_analyzed()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Jobs.ClaimNextAsync("runner", Lease);
        var writes = Enumerable.Range(0, 30).Select(i => Write(h, $"loaded-{i}", "Loaded")).ToList();
        var committed = await h.Jobs.CommitChunkAsync(id, "runner", Lease, new ImportChunk(1, writes.Count, writes.Count * 10, writes, []));
        var written = committed!.Counts.Sum(c => c.Created + c.Updated);
        var dialect = await h.Database.DialectAsync(CancellationToken.None);

        var refreshed = await h.Jobs.RefreshStatisticsAsync(written);

        if (dialect is not PostgresDialect)
        {
            Assert.False(refreshed);
            Assert.Equal(0L, await ScalarAsync(dialect, "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'sqlite_stat%'"));
            return;
        }
        Assert.True(refreshed);
        foreach (var table in ImportJobStore.LoadedTables)
            Assert.True(await ScalarAsync(dialect, $"SELECT COUNT(*) FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = '{table}' AND last_analyze IS NOT NULL") == 1, table);
        Assert.Equal(30L, await ScalarAsync(dialect, "SELECT reltuples::bigint FROM pg_class WHERE oid = 'resource_version'::regclass"));
        Assert.True(await ScalarAsync(dialect, "SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'idx_token'") > 0);

        // A job writing less than a tenth of what is now stored leaves the statistics to autovacuum.
        Assert.False(await h.Jobs.RefreshStatisticsAsync(2));
        Assert.True(await h.Jobs.RefreshStatisticsAsync(3));
        Assert.False(await h.Jobs.RefreshStatisticsAsync(0));
    }

    private static async Task<long> ScalarAsync(SqlDialect dialect, string sql)
    {
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_chunk_of_a_runner_that_lost_the_job_writes_nothing()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Jobs.ClaimNextAsync("dead", Lease);
        h.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        await h.Jobs.ClaimNextAsync("alive", Lease);

        var stale = await h.Jobs.CommitChunkAsync(id, "dead", Lease, new ImportChunk(1, 1, 10, [Write(h, "stale", "X")], []));
        var repeated = await h.Jobs.CommitChunkAsync(id, "alive", Lease, new ImportChunk(1, 1, 10, [Write(h, "first", "X")], []));
        var replayed = await h.Jobs.CommitChunkAsync(id, "alive", Lease, new ImportChunk(1, 1, 10, [Write(h, "replayed", "X")], []));

        Assert.Null(stale);
        Assert.Equal(ReadStatus.NotFound, (await h.Resources.ReadAsync("Patient", "stale")).Status);
        Assert.Equal(1L, repeated?.CommittedLines);
        Assert.Null(replayed);
        Assert.Equal(ReadStatus.NotFound, (await h.Resources.ReadAsync("Patient", "replayed")).Status);
    }

    /// <summary>
    /// On PostgreSQL the chunk goes out by binary COPY: its version rows and every index table's rows must be the ones
    /// the store's own write makes for the same content (types, NULLs, decimals), its versions supersede, and a deleted
    /// resource comes back as created.
    /// </summary>
    [Fact]
    public async Task A_chunk_stores_the_same_version_and_index_rows_as_the_store_and_supersedes_and_recreates()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Jobs.ClaimNextAsync("runner", Lease);
        Observation Rich(string oid) => new()
        {
            Id = oid,
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8302-2", "Body height") { Coding = { new Coding(null, "no-system") } },
            Subject = new ResourceReference("Patient/p1"),
            Effective = new FhirDateTime("2024-03-05T10:00:00Z"),
            Value = new Quantity(172.25m, "cm", "http://unitsofmeasure.org"),
            Identifier = [new Identifier("urn:example:obs", "A-1")],
            Note = [new Annotation { Text = "plain text" }],
        };
        await h.Resources.CreateAsync(Rich("by-store"));
        await h.Resources.CreateAsync(new Patient { Id = "gone" });
        await h.Resources.DeleteAsync("Patient", "gone");
        await h.Resources.CreateAsync(new Patient { Id = "old", Name = [new HumanName { Family = "Before" }] });

        var after = await h.Jobs.CommitChunkAsync(id, "runner", Lease, new ImportChunk(1, 3, 30,
            [new PreparedWrite(h.Resources.Prepare(Rich("by-import")), PreparedWriteKind.Update), Write(h, "gone", "Back"), Write(h, "old", "After")], []));

        Assert.Equal([new ImportTypeCount("Observation", 1, 0, 0), new ImportTypeCount("Patient", 1, 1, 0)], after!.Counts);
        Assert.Equal(await IndexRowsAsync(h, "by-store"), await IndexRowsAsync(h, "by-import"));
        Assert.NotEmpty(await IndexRowsAsync(h, "by-import"));
        var imported = (await h.Resources.ReadAsync("Observation", "by-import")).Version!;
        Assert.Equal(("1", (decimal?)172.25m), (imported.Resource!.Meta!.VersionId, (imported.Resource as Observation)?.Value is Quantity q ? q.Value : null));
        var old = (await h.Resources.ReadAsync("Patient", "old")).Version!;
        Assert.Equal(("2", "After"), (old.Resource!.Meta!.VersionId, ((Patient)old.Resource).Name[0].Family));
        Assert.Equal("3", (await h.Resources.ReadAsync("Patient", "gone")).Version!.Resource!.Meta!.VersionId);
        Assert.Equal([(2, 0L), (1, 1L)], await VersionRowsAsync(h, "Patient", "old"));
    }

    /// <summary>Every index and sort-key row of a resource's current version, the version key left out and its id as &lt;id&gt;, sorted.</summary>
    private static async Task<List<string>> IndexRowsAsync(Harness h, string observationId)
    {
        var rows = new List<string>();
        var dialect = await h.Database.DialectAsync(CancellationToken.None);
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        foreach (var (table, columns) in SchemaMigrator.IndexColumnNames)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT '{table}', i.resource_type, i.param, {string.Join(", ", columns.Split(',').Select(c => "i." + c.Trim()))} FROM {table} i " +
                                  $"JOIN resource_version a ON a.version_key = i.version_key WHERE a.resource_id = '{observationId}' AND a.superseded_seq IS NULL";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                // The sort-key tables hold the resource id itself: named alike so two resources' rows compare.
                rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(c => reader.IsDBNull(c) ? "NULL"
                    : Convert.ToString(reader.GetValue(c), System.Globalization.CultureInfo.InvariantCulture) is var value && value == observationId ? "<id>" : value)));
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>(version, whether superseded) of every version of a resource, newest first.</summary>
    private static async Task<List<(int, long)>> VersionRowsAsync(Harness h, string type, string resourceId)
    {
        var dialect = await h.Database.DialectAsync(CancellationToken.None);
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT version_id, CASE WHEN superseded_seq IS NULL THEN 0 ELSE 1 END FROM resource_version WHERE resource_type = '{type}' AND resource_id = '{resourceId}' ORDER BY version_id DESC";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, long)>();
        while (await reader.ReadAsync())
            rows.Add((Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
        return rows;
    }

    [Fact]
    public async Task A_chunk_that_fails_in_the_store_leaves_the_position_and_the_resources_as_they_were()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Resources.CreateAsync(new Patient { Id = "taken" });
        await h.Jobs.ClaimNextAsync("runner", Lease);
        var clash = new PreparedWrite(h.Resources.Prepare(new Patient { Id = "taken" }), PreparedWriteKind.Create);

        await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() =>
            h.Jobs.CommitChunkAsync(id, "runner", Lease, new ImportChunk(1, 2, 20, [Write(h, "before-clash", "X"), clash], [new ImportLineError(2, "{}")])));

        var job = await h.Jobs.GetAsync(id);
        Assert.Equal((0L, 0L), (job!.CommittedLines, job.ErrorLines));
        Assert.Equal(ReadStatus.NotFound, (await h.Resources.ReadAsync("Patient", "before-clash")).Status);
    }

    [Fact]
    public async Task A_recorded_line_is_found_unchanged_until_its_resource_is_written_again_and_then_its_chunk_is_stale()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var id = NewJobId();
        await h.Jobs.CreateAsync(id, Request());
        await h.Jobs.ClaimNextAsync("runner", Lease);
        var line = new ImportLineHash("Patient", "hashed", "aa11");
        await h.Jobs.CommitChunkAsync(id, "runner", Lease,
            new ImportChunk(1, 2, 20, [Write(h, "hashed", "X"), Write(h, "unhashed", "X")], [], LineHashes: [line]));

        var found = await h.Jobs.FindUnchangedAsync([line, line with { Hash = "bb22" }, new ImportLineHash("Patient", "unhashed", "aa11")]);
        var versionKey = Assert.Single(found, f => f.Key == ("Patient", "hashed")).Value;
        var recognised = await h.Jobs.CommitChunkAsync(id, "runner", Lease,
            new ImportChunk(3, 3, 30, [], [], Unchanged: [new ImportUnchangedLine("Patient", "hashed", versionKey)]));
        await h.Resources.UpdateAsync(new Patient { Id = "hashed", Name = [new HumanName { Family = "Y" }] });

        Assert.Single(found);
        Assert.Equal((3L, new ImportTypeCount("Patient", 2, 0, 1)), (recognised!.CommittedLines, recognised.Counts.Single()));
        Assert.Empty(await h.Jobs.FindUnchangedAsync([line]));
        await Assert.ThrowsAsync<ImportChunkStaleException>(() => h.Jobs.CommitChunkAsync(id, "runner", Lease,
            new ImportChunk(4, 5, 50, [Write(h, "after-stale", "Z")], [], Unchanged: [new ImportUnchangedLine("Patient", "hashed", versionKey)])));
        Assert.Equal(3L, (await h.Jobs.GetAsync(id))!.CommittedLines);
        Assert.Equal(ReadStatus.NotFound, (await h.Resources.ReadAsync("Patient", "after-stale")).Status);
    }

    [Fact]
    public async Task Completion_stamps_the_transaction_time_and_cancel_and_expiry_end_the_job()
    {
        await using var h = await Harness.OpenAsync(_backend);
        var done = NewJobId();
        var cancelled = NewJobId();
        await h.Jobs.CreateAsync(done, Request());
        await h.Jobs.ClaimNextAsync("runner", Lease);
        await h.Jobs.CommitChunkAsync(done, "runner", Lease, new ImportChunk(1, 1, 10, [Write(h, "p", "X")], []));
        var lastChange = await h.Resources.CurrentChangeAsync();

        Assert.True(await h.Jobs.CompleteAsync(done, "runner", h.Clock.GetUtcNow() + TimeSpan.FromHours(1)));
        await h.Jobs.CreateAsync(cancelled, Request());
        Assert.True(await h.Jobs.CancelAsync(cancelled, h.Clock.GetUtcNow()));
        Assert.False(await h.Jobs.CancelAsync(cancelled, h.Clock.GetUtcNow()));

        var completed = await h.Jobs.GetAsync(done);
        Assert.Equal((ImportJobStatus.Completed, lastChange.LastUpdated), (completed!.Status, completed.TransactionTime));
        Assert.Equal([cancelled], (await h.Jobs.ExpiredAsync(h.Clock.GetUtcNow(), 10)).Select(j => j.Id));
        h.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(2, (await h.Jobs.ExpiredAsync(h.Clock.GetUtcNow(), 10)).Count);
        await h.Jobs.DeleteAsync(done);
        Assert.Null(await h.Jobs.GetAsync(done));
    }
}

public sealed class SqliteImportJobTests : ImportJobContract<SqliteBackend>;

public sealed class PostgresImportJobTests : ImportJobContract<PostgresBackend>;
