using System.Data.Common;
using FhirCaseService.Storage.Audit;
using FhirCaseService.Storage.Persistence;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests.Audit;

/// <summary>The append-only audit trail: append, read, search by each criterion, paging, and the database's refusal to change it.</summary>
public abstract class AuditStoreContract<TBackend> where TBackend : IStoreBackend, new()
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TBackend _backend = new();

    private static AuditRecord Record(string id, int minute, string client = "ehr", string action = "R", string subtype = "read",
        string? type = "Patient", string? entityId = "p1", string outcome = "0", IReadOnlyList<AuditEntityRef>? entities = null) =>
        new(id, T0.AddMinutes(minute), client, action, subtype, type, entityId, outcome, $$"""{"resourceType":"AuditEvent","id":"{{id}}"}""", entities);

    /// <summary>
    /// Runs <paramref name="test"/> on a fresh database: the resource store opened (and migrated) it, the audit store
    /// shares its file or schema as the service's stores do.
    /// </summary>
    private async Task WithStoreAsync(Func<AuditStore, StorageDatabase, Task> test)
    {
        var db = await _backend.OpenAsync();
        var database = new StorageDatabase(db.Options);
        try
        {
            await test(new AuditStore(database), database);
        }
        finally
        {
            await database.DisposeAsync();
            await db.DisposeAsync();
        }
    }

    [Fact]
    public Task Appended_records_read_back_with_every_column() => WithStoreAsync(async (audit, _) =>
    {
        await audit.AppendAsync([Record("e1", 0, client: "registry", action: "C", subtype: "create", outcome: "4")]);

        var read = await audit.ReadAsync("e1");

        Assert.NotNull(read);
        Assert.Equal(("e1", T0, "registry", "C", "create", "Patient", "p1", "4"),
            (read.EventId, read.Recorded, read.ClientId, read.Action, read.Subtype, read.EntityType, read.EntityId, read.Outcome));
        Assert.Contains("\"id\":\"e1\"", read.Json);
        Assert.Null(await audit.ReadAsync("unknown"));
    });

    [Fact]
    public Task Search_without_criteria_answers_newest_first() => WithStoreAsync(async (audit, _) =>
    {
        await audit.AppendAsync([Record("a", 0), Record("b", 1)]);
        await audit.AppendAsync([Record("c", 2)]);

        var page = await audit.SearchAsync(new AuditQuery());

        Assert.Equal(["c", "b", "a"], page.Records.Select(r => r.EventId));
        Assert.Null(page.NextBeforeSequence);
    });

    [Fact]
    public Task Search_by_each_criterion_finds_only_its_matches() => WithStoreAsync(async (audit, _) =>
    {
        await audit.AppendAsync(
        [
            Record("read-p1", 0),
            Record("create-o1", 10, client: "registry", action: "C", subtype: "create", type: "Observation", entityId: "o1"),
            Record("search-obs", 20, action: "E", subtype: "search-type", type: "Observation", entityId: null),
            Record("failed", 30, outcome: "4", entityId: "p2"),
            Record("transaction", 40, action: "E", subtype: "transaction", type: null, entityId: null,
                entities: [new AuditEntityRef("Patient", "p9"), new AuditEntityRef("Observation", "o9")]),
        ]);

        async Task<string[]> Ids(AuditQuery query) => [.. (await audit.SearchAsync(query)).Records.Select(r => r.EventId)];

        Assert.Equal(["create-o1"], await Ids(new AuditQuery(ClientId: "registry")));
        Assert.Equal(["create-o1"], await Ids(new AuditQuery(Action: "C")));
        Assert.Equal(["search-obs"], await Ids(new AuditQuery(Subtype: "search-type")));
        Assert.Equal(["failed"], await Ids(new AuditQuery(Outcome: "4")));
        Assert.Equal(["read-p1"], await Ids(new AuditQuery(EntityType: "Patient", EntityId: "p1")));
        Assert.Equal(["transaction", "search-obs", "create-o1"], await Ids(new AuditQuery(EntityType: "Observation")));
        Assert.Equal(["transaction"], await Ids(new AuditQuery(EntityType: "Patient", EntityId: "p9")));
        Assert.Equal(["search-obs", "create-o1"], await Ids(new AuditQuery(RecordedFrom: T0.AddMinutes(10), RecordedTo: T0.AddMinutes(30))));
        Assert.Equal(["transaction", "failed"], await Ids(new AuditQuery(RecordedFrom: T0.AddMinutes(30))));
        Assert.Equal(["read-p1"], await Ids(new AuditQuery(RecordedTo: T0.AddMinutes(10))));
        Assert.Equal(["read-p1"], await Ids(new AuditQuery(ClientId: "ehr", Action: "R", Outcome: "0", EntityType: "Patient")));
    });

    [Fact]
    public Task Search_by_entity_id_without_its_type_is_refused() => WithStoreAsync(async (audit, _) =>
        await Assert.ThrowsAsync<InvalidStorageRequestException>(() => audit.SearchAsync(new AuditQuery(EntityId: "p1"))));

    [Fact]
    public Task Paging_with_the_cursor_visits_every_record_once_newest_first() => WithStoreAsync(async (audit, _) =>
    {
        await audit.AppendAsync([.. Enumerable.Range(0, 7).Select(i => Record($"r{i}", i))]);

        var seen = new List<string>();
        long? cursor = null;
        var pages = 0;
        do
        {
            var page = await audit.SearchAsync(new AuditQuery(Count: 3, BeforeSequence: cursor));
            seen.AddRange(page.Records.Select(r => r.EventId));
            cursor = page.NextBeforeSequence;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(0, 7).Reverse().Select(i => $"r{i}"), seen);
    });

    [Fact]
    public Task An_event_id_is_recorded_once() => WithStoreAsync(async (audit, _) =>
    {
        await audit.AppendAsync([Record("once", 0)]);

        await Assert.ThrowsAnyAsync<DbException>(() => audit.AppendAsync([Record("once", 1)]));
        Assert.Single((await audit.SearchAsync(new AuditQuery())).Records);
    });

    [Theory]
    [InlineData("UPDATE audit_event SET outcome = '0'")]
    [InlineData("DELETE FROM audit_event")]
    [InlineData("UPDATE audit_entity SET entity_id = 'other'")]
    [InlineData("DELETE FROM audit_entity")]
    public Task The_database_itself_refuses_to_change_or_remove_audit_rows(string statement) => WithStoreAsync(async (audit, database) =>
    {
        await audit.AppendAsync([Record("kept", 0, outcome: "8")]);

        var dialect = await database.DialectAsync(CancellationToken.None);
        await using (var connection = await dialect.OpenAsync(CancellationToken.None))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = statement;
            var error = await Assert.ThrowsAnyAsync<DbException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", error.Message);
        }

        var kept = await audit.ReadAsync("kept");
        Assert.Equal("8", kept!.Outcome);
        Assert.Single((await audit.SearchAsync(new AuditQuery(EntityType: "Patient", EntityId: "p1"))).Records);
    });
}

public sealed class SqliteAuditStoreTests : AuditStoreContract<SqliteBackend>;

public sealed class PostgresAuditStoreTests : AuditStoreContract<PostgresBackend>;

/// <summary>
/// On SQLite an audit batch is a side write of the resource writer's next commit group: one sync of the log for both,
/// no change sequence taken, answered only after the commit, and its failure is its own.
/// </summary>
public sealed class SqliteAuditGroupCommitTests
{
    private static AuditRecord Record(string id) =>
        new(id, new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero), "ehr", "C", "create", "Patient", "p1", "0", $$"""{"resourceType":"AuditEvent","id":"{{id}}"}""", null);

    /// <summary>An audit store and the resource store sharing one SQLite database (one writer, one commit group).</summary>
    private static async Task WithSqliteAsync(Func<AuditStore, ResourceStore, Task> test)
    {
        var db = await new SqliteBackend().OpenAsync();
        var database = new StorageDatabase(db.Options);
        try
        {
            await test(new AuditStore(database), await database.ResourceStoreAsync(CancellationToken.None));
        }
        finally
        {
            await database.DisposeAsync();
            await db.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_audit_batch_commits_in_the_next_write_group_without_taking_a_change_sequence()
    {
        await WithSqliteAsync(async (audit, store) =>
        {
            // Alone, a batch is a group of its own of the resource writer (not a transaction beside it).
            var groupsAtStart = store.WriteGroups;
            await audit.AppendAsync([Record("alone")]);
            Assert.Equal(groupsAtStart + 1, store.WriteGroups);

            var holding = new TaskCompletionSource();
            var release = new TaskCompletionSource();
            var first = store.TransactionAsync(async (tx, ct) =>
            {
                holding.SetResult();
                await release.Task;
                return await tx.CreateAsync(Examples.Patient("held"), ct);
            });
            await holding.Task;
            var groupsBefore = store.WriteGroups;
            var appended = audit.AppendAsync([Record("grouped")]);
            var written = store.TransactionAsync((tx, ct) => tx.CreateAsync(Examples.Patient("next"), ct));
            await Task.Delay(50);
            Assert.False(appended.IsCompleted, "the audit batch waits for the write group it joins");
            release.SetResult();

            var held = await first;
            await appended;
            var next = await written;

            // The held group, then the audit batch and the next write in one group (one commit, one sync of the log).
            Assert.Equal(groupsBefore + 2, store.WriteGroups);
            Assert.Equal(held.ChangeSequence + 1, next.ChangeSequence);
            Assert.NotNull(await audit.ReadAsync("grouped"));
        });
    }

    [Fact]
    public async Task A_failing_audit_batch_does_not_undo_the_writes_of_its_group()
    {
        await WithSqliteAsync(async (audit, store) =>
        {
            await audit.AppendAsync([Record("once")]);
            var holding = new TaskCompletionSource();
            var release = new TaskCompletionSource();
            var first = store.TransactionAsync(async (tx, ct) =>
            {
                holding.SetResult();
                await release.Task;
                return await tx.CreateAsync(Examples.Patient("held"), ct);
            });
            await holding.Task;
            var duplicate = audit.AppendAsync([Record("once")]);
            var written = store.TransactionAsync((tx, ct) => tx.CreateAsync(Examples.Patient("next"), ct));
            release.SetResult();

            await first;
            await Assert.ThrowsAnyAsync<DbException>(() => duplicate);
            var next = await written;

            Assert.Equal(ReadStatus.Found, (await store.ReadAsync(next.ResourceType, next.Id)).Status);
            Assert.Single((await audit.SearchAsync(new AuditQuery())).Records);
        });
    }
}
