using System.Data.Common;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// The storage half of the write pipeline: resources prepared before the transaction, written in batches, committed
/// in groups, durable by default; run against every backend.
/// </summary>
public abstract class WritePipelineContract<TBackend> where TBackend : IStoreBackend, new()
{
    private const string Pseudonym = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";
    private readonly TBackend _backend = new();

    [Fact]
    public async Task A_batch_of_1000_resources_commits_in_one_transaction_with_one_sequence_and_its_index()
    {
        await using var db = await _backend.OpenAsync();
        var writes = Enumerable.Range(0, 1000)
            .Select(i => new PreparedWrite(db.Store.Prepare(Examples.Patient($"b{i:D4}")), PreparedWriteKind.Create))
            .ToList();

        var results = await db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct));

        Assert.Equal(1000, results.Count);
        Assert.All(results, r => Assert.True(r.Created && !r.Unchanged && r.Stored.VersionId == 1));
        Assert.Equal(writes.Select(w => w.Resource.Id), results.Select(r => r.Stored.Id));
        Assert.Single(results.Select(r => (r.Stored.ChangeSequence, r.Stored.LastUpdated)).Distinct());
        Assert.Equal(results[0].Stored.ChangeSequence, (await db.Store.CurrentChangeAsync()).Sequence);
        var found = await db.Store.SearchAsync(SearchQuery.Parse("Patient", [new("identifier", $"{Pseudonym}|b0777")]));
        Assert.Equal("b0777-patient", Assert.Single(found.Matches).Id);
        var total = await db.Store.SearchAsync(SearchQuery.Parse("Patient", [new("_total", "accurate"), new("_count", "1")]));
        Assert.Equal(1000, total.Total);
    }

    [Fact]
    public async Task A_batch_takes_a_few_round_trips_not_one_per_resource()
    {
        await using var db = await _backend.OpenAsync();
        var store = (ResourceStore)db.Store;

        async Task<long> RoundTripsFor(int count, string prefix, AdministrativeGender gender = AdministrativeGender.Male)
        {
            var writes = Enumerable.Range(0, count).Select(i =>
            {
                var patient = Examples.Patient($"{prefix}{i:D4}");
                patient.Gender = gender;
                return new PreparedWrite(db.Store.Prepare(patient), PreparedWriteKind.Update);
            }).ToList();
            var before = store.WriteExecutions;
            await db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct));
            return store.WriteExecutions - before;
        }

        var ten = await RoundTripsFor(10, "t");
        var thousand = await RoundTripsFor(1000, "m");
        var thousandChanged = await RoundTripsFor(1000, "m", AdministrativeGender.Female);

        // A Patient has about ten index rows: 1,000 of them are ~10,000 rows, in INSERTs of up to 128 rows.
        Assert.True(thousand < 1000 / 8, $"{thousand} round trips for 1,000 resources");
        if (store.Dialect is PostgresDialect)
        {
            // The clock step with the lookup, then the supersede UPDATE with the one statement of the versions and all
            // their index rows (column arrays): two round trips whatever the size, new versions of existing ones included.
            Assert.Equal(2, ten);
            Assert.Equal(ten, thousand);
            Assert.Equal(ten, thousandChanged);
        }
    }

    [Fact]
    public async Task Stored_json_is_the_serializers_form_with_the_commit_stamps()
    {
        await using var db = await _backend.OpenAsync();
        var patient = Examples.Patient("js");
        patient.Meta = new Meta { Profile = ["https://fhircase.example.org/fhir/StructureDefinition/fhircase-patient"], VersionId = "99" };
        var stored = (await db.Store.TransactionAsync((tx, ct) =>
            tx.WriteAsync([new PreparedWrite(db.Store.Prepare(patient), PreparedWriteKind.Update)], ct)))[0].Stored;

        var expected = (Patient)patient.DeepCopy();
        expected.Meta!.VersionId = "1";
        expected.Meta.LastUpdated = stored.LastUpdated;
        Assert.Equal(FhirSerialization.ToJson(expected), await RawContentAsync(db.Store, "Patient", "js-patient", 1));
        Assert.Equal(FhirSerialization.ToJson(expected), FhirSerialization.ToJson(stored.Resource!));
        Assert.Equal("99", patient.Meta.VersionId);
    }

    [Fact]
    public async Task A_handed_over_resource_is_not_kept_by_its_preparation_and_is_stored_as_a_copied_one()
    {
        await using var db = await _backend.OpenAsync();
        var kept = db.Store.Prepare(Examples.Patient("own"));
        var (owned, handedOver) = PrepareOwnedAndForget(db.Store, "own");

        // Nothing of the store holds the handed-over object after the preparation: it is collectable before the commit
        // (a bulk import's chunks wait for their commit; their POCOs must not).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(handedOver.IsAlive, "the preparation kept the resource it was handed");
        Assert.Equal(kept.ContentHash, owned.ContentHash);
        Assert.Equal(kept.Index.Tokens.Select(e => e.ToString()), owned.Index.Tokens.Select(e => e.ToString()));

        // Written as any preparation (same stored JSON, same index), its result carries no resource; a re-send of the
        // same content is recognised as unchanged.
        var created = (await db.Store.TransactionAsync((tx, ct) => tx.WriteAsync([new PreparedWrite(owned, PreparedWriteKind.Update)], ct)))[0];
        Assert.True(created.Created);
        Assert.Null(created.Stored.Resource);
        var expected = Examples.Patient("own");
        expected.Meta!.VersionId = "1";
        expected.Meta.LastUpdated = created.Stored.LastUpdated;
        Assert.Equal(FhirSerialization.ToJson(expected), await RawContentAsync(db.Store, "Patient", "own-patient", 1));
        Assert.Equal("own-patient", Assert.Single((await db.Store.SearchAsync(SearchQuery.Parse("Patient", [new("identifier", $"{Pseudonym}|own")]))).Matches).Id);
        var again = (await db.Store.TransactionAsync((tx, ct) =>
            tx.WriteAsync([new PreparedWrite(PrepareOwnedAndForget(db.Store, "own").Prepared, PreparedWriteKind.Update)], ct)))[0];
        Assert.True(again.Unchanged);
        Assert.Null(again.Stored.Resource);
        Assert.Equal(1, again.Stored.VersionId);
    }

    /// <summary>
    /// A preparation of an example Patient handed over, and a weak reference to that Patient: made and handed over in a
    /// frame of its own, so no slot of the caller's (unoptimised) frame keeps it.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static (PreparedResource Prepared, WeakReference HandedOver) PrepareOwnedAndForget(IResourceStore store, string prefix)
    {
        var patient = Examples.Patient(prefix);
        return (store.PrepareOwned(patient), new WeakReference(patient));
    }

    [Fact]
    public async Task Stored_text_outside_ascii_is_the_serializers_text_in_every_version_and_in_batches_with_its_hash()
    {
        await using var db = await _backend.OpenAsync();
        // Two- to four-byte UTF-8, a surrogate pair, and characters the serializer escapes.
        const string family = "Zoë Ångström 李 😀 \" \\ \u0001 <&>";
        var patients = Enumerable.Range(0, 70).Select(i =>
        {
            var patient = Examples.Patient($"u{i:D2}");
            patient.Name = [new HumanName { Family = family + i, Given = ["Ève"] }];
            return patient;
        }).ToList();
        // One batch of 70 (a 64-row INSERT and a remainder), then nine updates of the first one (versions 2..10).
        var batch = await db.Store.TransactionAsync((tx, ct) =>
            tx.WriteAsync(patients.Select(p => new PreparedWrite(db.Store.Prepare(p), PreparedWriteKind.Create)).ToList(), ct));
        var updates = new List<StoredResource>();
        for (var v = 2; v <= 10; v++)
        {
            patients[0].Name[0].Given = [$"Ève {v}"];
            updates.Add((await WriteOneAsync(db.Store, patients[0])).Stored);
        }

        foreach (var (patient, stored) in patients.Zip(batch.Select(r => r.Stored)).Skip(1).Append((patients[0], updates[^1])))
        {
            var expected = (Patient)patient.DeepCopy();
            expected.Meta ??= new Meta();
            expected.Meta.VersionId = stored.VersionId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            expected.Meta.LastUpdated = stored.LastUpdated;
            var text = FhirSerialization.ToJson(expected);
            var (content, kind, hash) = await RawVersionAsync(db.Store, "Patient", stored.Id, stored.VersionId);
            Assert.Equal(text, content);
            Assert.Equal("text", kind);
            Assert.Equal(StoredJson.HashOfStored(text), hash);
            Assert.Equal(db.Store.Prepare(patient).ContentHash, hash);
        }
        Assert.Equal(10, updates[^1].VersionId);
    }

    [Fact]
    public async Task An_unchanged_resend_makes_no_new_version_and_a_changed_one_does()
    {
        await using var db = await _backend.OpenAsync();
        var first = await WriteOneAsync(db.Store, Examples.Patient("un"));

        var again = await WriteOneAsync(db.Store, Examples.Patient("un"));

        Assert.True(again.Unchanged);
        Assert.False(again.Created);
        Assert.Equal((1, first.Stored.LastUpdated, first.Stored.ChangeSequence), (again.Stored.VersionId, again.Stored.LastUpdated, again.Stored.ChangeSequence));
        Assert.Equal("1", again.Stored.Resource!.Meta!.VersionId);
        var changed = Examples.Patient("un");
        changed.Gender = AdministrativeGender.Female;
        var second = await WriteOneAsync(db.Store, changed);
        Assert.Equal((2, false, false), (second.Stored.VersionId, second.Unchanged, second.Created));
        var forced = await db.Store.TransactionAsync((tx, ct) =>
            tx.WriteAsync([new PreparedWrite(db.Store.Prepare(changed), PreparedWriteKind.Update, KeepUnchanged: false)], ct));
        Assert.Equal(3, forced[0].Stored.VersionId);
        Assert.Equal(3, (await db.Store.HistoryAsync(new HistoryQuery("Patient", "un-patient"))).Total);
    }

    [Fact]
    public async Task An_unchanged_resend_is_recognized_for_versions_stored_before_content_hashes()
    {
        await using var db = await _backend.OpenAsync();
        await WriteOneAsync(db.Store, Examples.Patient("old"));
        // A version written before schema v3 has no hash.
        await ExecuteAsync(db.Store, "UPDATE resource_version SET content_hash = NULL");

        var again = await WriteOneAsync(db.Store, Examples.Patient("old"));

        Assert.True(again.Unchanged);
        Assert.Equal(1, (await db.Store.HistoryAsync(new HistoryQuery("Patient", "old-patient"))).Total);
    }

    [Fact]
    public async Task A_deleted_resource_written_again_is_created_anew_even_with_the_same_content()
    {
        await using var db = await _backend.OpenAsync();
        await WriteOneAsync(db.Store, Examples.Patient("del"));
        await db.Store.DeleteAsync("Patient", "del-patient");

        var back = await WriteOneAsync(db.Store, Examples.Patient("del"));

        Assert.Equal((3, true, false), (back.Stored.VersionId, back.Created, back.Unchanged));
        Assert.Equal(ReadStatus.Found, (await db.Store.ReadAsync("Patient", "del-patient")).Status);
    }

    [Fact]
    public async Task An_if_match_that_does_not_hold_fails_the_whole_batch()
    {
        await using var db = await _backend.OpenAsync();
        await WriteOneAsync(db.Store, Examples.Patient("ma"));
        await WriteOneAsync(db.Store, Examples.Patient("mb"));
        var a = Examples.Patient("ma");
        a.Gender = AdministrativeGender.Female;
        var b = Examples.Patient("mb");
        b.Gender = AdministrativeGender.Female;

        var conflict = await Assert.ThrowsAsync<VersionConflictException>(() => db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(
        [
            new PreparedWrite(db.Store.Prepare(a), PreparedWriteKind.Update, IfMatchVersion: 1),
            new PreparedWrite(db.Store.Prepare(b), PreparedWriteKind.Update, IfMatchVersion: 5),
            new PreparedWrite(db.Store.Prepare(Examples.Patient("mc")), PreparedWriteKind.Update, IfMatchVersion: 1),
        ], ct)));

        Assert.Equal(("mb-patient", 5, (int?)1), (conflict.Id, conflict.ExpectedVersion, conflict.ActualVersion));
        Assert.Equal(1, (await db.Store.ReadAsync("Patient", "ma-patient")).Version!.VersionId);
        var missing = await Assert.ThrowsAsync<VersionConflictException>(() => db.Store.TransactionAsync((tx, ct) =>
            tx.WriteAsync([new PreparedWrite(db.Store.Prepare(Examples.Patient("mc")), PreparedWriteKind.Update, IfMatchVersion: 1)], ct)));
        Assert.Null(missing.ActualVersion);
    }

    [Fact]
    public async Task Create_of_an_existing_id_fails_the_batch_and_writes_none_of_it()
    {
        await using var db = await _backend.OpenAsync();
        await WriteOneAsync(db.Store, Examples.Patient("ex"));

        var taken = await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() => db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(
        [
            new PreparedWrite(db.Store.Prepare(Examples.Patient("new")), PreparedWriteKind.Create),
            new PreparedWrite(db.Store.Prepare(Examples.Patient("ex")), PreparedWriteKind.Create),
        ], ct)));

        Assert.Equal("ex-patient", taken.Id);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "new-patient")).Status);
    }

    [Fact]
    public async Task The_same_target_twice_in_one_batch_is_refused()
    {
        await using var db = await _backend.OpenAsync();
        var prepared = db.Store.Prepare(Examples.Patient("tw"));

        await Assert.ThrowsAsync<InvalidStorageRequestException>(() => db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(
            [new PreparedWrite(prepared, PreparedWriteKind.Update), new PreparedWrite(prepared, PreparedWriteKind.Update)], ct)));
    }

    [Fact]
    public async Task In_a_commit_group_a_failing_transaction_is_rolled_back_alone_and_the_others_commit()
    {
        await using var db = await _backend.OpenAsync();
        var store = (ResourceStore)db.Store;
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        // The first transaction keeps the writer busy until the others are queued: they then form one group.
        var first = db.Store.TransactionAsync(async (tx, ct) =>
        {
            holding.SetResult();
            await release.Task;
            return await tx.CreateAsync(Examples.Patient("g-first"), ct);
        });
        await holding.Task;
        var groupsBefore = store.WriteGroups;
        var queued = Enumerable.Range(0, 5).Select(i => db.Store.TransactionAsync(async (tx, ct) =>
        {
            var written = await tx.WriteAsync([new PreparedWrite(db.Store.Prepare(Examples.Patient($"g{i}")), PreparedWriteKind.Create)], ct);
            if (i == 2)
                throw new InvalidOperationException("entry 3 of this transaction failed");
            return written[0].Stored;
        })).ToList();
        release.SetResult();

        await first;
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => queued[2]);
        Assert.Equal("entry 3 of this transaction failed", failure.Message);
        var committed = new List<StoredResource>();
        foreach (var i in new[] { 0, 1, 3, 4 })
            committed.Add(await queued[i]);
        Assert.Equal(groupsBefore + 2, store.WriteGroups);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "g2-patient")).Status);
        foreach (var stored in committed)
            Assert.Equal(ReadStatus.Found, (await db.Store.ReadAsync("Patient", stored.Id)).Status);
        // Each transaction of the group has its own sequence, in queue order, without the gap of the rolled-back one.
        var sequences = committed.Select(s => s.ChangeSequence).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(k => sequences[0] + k), sequences);
        Assert.True(committed.Zip(committed.Skip(1)).All(p => p.Second.LastUpdated > p.First.LastUpdated));
        Assert.Equal(sequences[^1], (await db.Store.CurrentChangeAsync()).Sequence);
    }

    /// <summary>
    /// The index and sort-key rows of a batch land on their own version in every table, whatever the batch's mix:
    /// PostgreSQL writes them with the versions in one statement and maps each row to its version's new key by the
    /// version's position in the batch (<see cref="PostgresRowArrays"/>), SQLite by the keys its INSERT returned. A
    /// batch of new versions of existing resources (the old ones superseded in the same round trip on PostgreSQL) and
    /// a deletion (a version without rows) are checked too.
    /// </summary>
    [Fact]
    public async Task Each_index_row_of_a_batch_lands_on_its_own_version_in_every_table()
    {
        await using var db = await _backend.OpenAsync();
        var expected = new List<string>();
        async Task WriteAsync(IEnumerable<Resource> resources, int version)
        {
            var writes = resources.Select(r => new PreparedWrite(db.Store.Prepare(r), PreparedWriteKind.Update)).ToList();
            foreach (var write in writes)
                expected.AddRange(ExpectedRows(write.Resource, version));
            var results = await db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct));
            Assert.All(results, r => Assert.Equal(version, r.Stored.VersionId));
        }

        await WriteAsync([.. Examples.Record("ixa"), .. Examples.Record("ixb")], 1);
        await WriteAsync(Examples.Record("ixa").Select(r => { r.Language = "de"; return r; }), 2);
        var patient = Examples.Record("ixb").OfType<Patient>().Single();
        Assert.NotNull(await db.Store.DeleteAsync("Patient", patient.Id!));

        var actual = await StoredRowsAsync(db.Store, "ix");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Contains(actual, r => r.StartsWith("idx_quantity ", StringComparison.Ordinal));
        Assert.Contains(actual, r => r.StartsWith("sort_date ", StringComparison.Ordinal));
    }

    /// <summary>One line per index row: table, the version's type/id/version, param, and a value column or two.</summary>
    private static IEnumerable<string> ExpectedRows(PreparedResource prepared, int version)
    {
        var at = $"{prepared.ResourceType}/{prepared.Id}/{version}";
        var index = prepared.Index;
        foreach (var e in index.Tokens) yield return $"idx_token {at} {e.Param} {e.System}|{e.Code}";
        foreach (var e in index.Strings) yield return $"idx_string {at} {e.Param} {e.Normalized}|{e.Exact}";
        foreach (var e in index.Dates) yield return $"idx_date {at} {e.Param} {e.Low}|{e.High}";
        foreach (var e in index.References) yield return $"idx_reference {at} {e.Param} {e.TargetType}|{e.TargetId}";
        foreach (var e in index.Quantities) yield return $"idx_quantity {at} {e.Param} {e.System}|{e.Code}";
        foreach (var e in index.Numbers) yield return $"idx_number {at} {e.Param} |";
        foreach (var e in index.Uris) yield return $"idx_uri {at} {e.Param} {e.Uri}|";
        foreach (var e in index.DateSortKeys) yield return $"sort_date {at} {e.Param} {e.Min}|{e.Max}";
        foreach (var e in index.TextSortKeys) yield return $"sort_text {at} {e.Param} {e.Min}|{e.Max}";
    }

    private static async Task<List<string>> StoredRowsAsync(IResourceStore store, string idPrefix)
    {
        (string Table, string Values)[] tables =
        [
            ("idx_token", "t.system, t.code"), ("idx_string", "t.value_norm, t.value_exact"), ("idx_date", "t.low_ms, t.high_ms"),
            ("idx_reference", "t.target_type, t.target_id"), ("idx_quantity", "t.system, t.code"), ("idx_number", "NULL, NULL"),
            ("idx_uri", "t.uri, NULL"), ("sort_date", "t.min_ms, t.max_ms"), ("sort_text", "t.min_text, t.max_text"),
        ];
        var rows = new List<string>();
        await using var connection = await ((ResourceStore)store).Dialect.OpenAsync(CancellationToken.None);
        foreach (var (table, values) in tables)
        {
            // A sort-key row repeats its version's resource id: it must be its own version's.
            var sortId = table.StartsWith("sort_", StringComparison.Ordinal) ? "t.resource_id" : "v.resource_id";
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT v.resource_type, v.resource_id, v.version_id, t.resource_type, t.param, {values}, {sortId} " +
                                  $"FROM {table} t JOIN resource_version v ON v.version_key = t.version_key WHERE v.resource_id LIKE '{idPrefix}%'";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Assert.Equal(reader.GetString(0), reader.GetString(3));
                Assert.Equal(reader.GetString(1), reader.GetString(7));
                rows.Add($"{table} {reader.GetString(0)}/{reader.GetString(1)}/{Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture)} " +
                         $"{reader.GetString(4)} {Text(reader, 5)}|{Text(reader, 6)}");
            }
        }
        return rows;

        static string Text(DbDataReader reader, int i) =>
            reader.IsDBNull(i) ? "" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    /// <summary>
    /// On PostgreSQL every statement sent alone is a round trip under the write lock: a call's savepoint goes in its first
    /// batch and is never released, so a call in a group costs what it costs alone. SQLite runs savepoints in-process
    /// and sends SAVEPOINT and RELEASE around each call of a group.
    /// </summary>
    [Fact]
    public async Task A_call_in_a_commit_group_costs_its_own_round_trips_plus_savepoints_only_where_they_are_free()
    {
        await using var db = await _backend.OpenAsync();
        var store = (ResourceStore)db.Store;
        Task<IReadOnlyList<PreparedWriteResult>> Write(IResourceTransaction tx, string id, CancellationToken ct) => CreatePatientAsync(db.Store, tx, id, ct);
        var alone = store.WriteExecutions;
        await db.Store.TransactionAsync((tx, ct) => Write(tx, "rt-alone", ct));
        alone = store.WriteExecutions - alone;

        var before = store.WriteExecutions;
        var groupsBefore = store.WriteGroups;
        var (first, release) = await HoldWriterAsync(db.Store, "rt-first");
        var queued = Enumerable.Range(0, 5).Select(i => db.Store.TransactionAsync((tx, ct) => Write(tx, $"rt{i}", ct))).ToList();
        release.SetResult();
        await first;
        await Task.WhenAll(queued);

        Assert.Equal(groupsBefore + 2, store.WriteGroups);
        var savepoints = store.Dialect is PostgresDialect ? 0 : 2;
        Assert.Equal(6 * alone + 5 * savepoints, store.WriteExecutions - before);
    }

    /// <summary>
    /// A call whose caller cancels after its work started, before its first statement, must not fail the other calls
    /// of its group: on PostgreSQL its savepoint travels in that first batch (deferred), so the batch is sent whatever
    /// the token, and the rollback to the savepoint finds it.
    /// </summary>
    [Fact]
    public async Task A_call_cancelled_before_its_first_statement_does_not_fail_its_group()
    {
        await using var db = await _backend.OpenAsync();
        var store = (ResourceStore)db.Store;
        Task<IReadOnlyList<PreparedWriteResult>> Write(IResourceTransaction tx, string id, CancellationToken ct) => CreatePatientAsync(db.Store, tx, id, ct);
        var entered = new TaskCompletionSource();
        var proceed = new TaskCompletionSource();
        using var cancel = new CancellationTokenSource();
        var groupsBefore = store.WriteGroups;
        var (first, release) = await HoldWriterAsync(db.Store, "cx-first");
        var cancelled = db.Store.TransactionAsync(async (tx, ct) =>
        {
            entered.SetResult();
            await proceed.Task;
            var written = await Write(tx, "cx-cancelled", ct);
            ct.ThrowIfCancellationRequested();
            return written;
        }, cancel.Token);
        var last = db.Store.TransactionAsync((tx, ct) => Write(tx, "cx-last", ct));
        release.SetResult();
        await first;
        await entered.Task;
        await cancel.CancelAsync();
        proceed.SetResult();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, (await last)[0].Stored.VersionId);
        Assert.Equal(groupsBefore + 2, store.WriteGroups);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "cx-cancelled-patient")).Status);
        Assert.Equal(ReadStatus.Found, (await db.Store.ReadAsync("Patient", "cx-last-patient")).Status);
    }

    private static Task<IReadOnlyList<PreparedWriteResult>> CreatePatientAsync(IResourceStore store, IResourceTransaction tx, string id, CancellationToken ct) =>
        tx.WriteAsync([new PreparedWrite(store.Prepare(Examples.Patient(id)), PreparedWriteKind.Create)], ct);

    /// <summary>
    /// Starts a call that holds the writer until <c>Release</c> is set, so the calls started meanwhile queue into the
    /// next commit group; returns once the call holds it.
    /// </summary>
    private static async Task<(Task<IReadOnlyList<PreparedWriteResult>> First, TaskCompletionSource Release)> HoldWriterAsync(IResourceStore store, string id)
    {
        var holding = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var first = store.TransactionAsync(async (tx, ct) =>
        {
            holding.SetResult();
            await release.Task;
            return await CreatePatientAsync(store, tx, id, ct);
        });
        await holding.Task;
        return (first, release);
    }

    [Fact]
    public async Task Concurrent_writers_get_one_sequence_per_transaction_ordered_as_lastUpdated_and_history()
    {
        await using var db = await _backend.OpenAsync();
        const int writers = 6, transactionsEach = 8;
        var results = new System.Collections.Concurrent.ConcurrentBag<IReadOnlyList<PreparedWriteResult>>();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var t = 0; t < transactionsEach; t++)
            {
                var writes = new[] { "a", "b", "c" }
                    .Select(s => new PreparedWrite(db.Store.Prepare(Examples.Patient($"w{w}t{t}{s}")), PreparedWriteKind.Update))
                    .ToList();
                results.Add(await db.Store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct)));
            }
        })));

        var transactions = results.Select(r => r.Select(x => (x.Stored.ChangeSequence, x.Stored.LastUpdated)).Distinct().Single()).OrderBy(m => m.ChangeSequence).ToList();
        Assert.Equal(writers * transactionsEach, transactions.Select(t => t.ChangeSequence).Distinct().Count());
        Assert.True(transactions.Zip(transactions.Skip(1)).All(p => p.Second.LastUpdated > p.First.LastUpdated));
        var history = await db.Store.HistoryAsync(new HistoryQuery("Patient", Count: 1000));
        Assert.Equal(writers * transactionsEach * 3, history.Total);
        Assert.Equal(transactions[^1].ChangeSequence, (await db.Store.CurrentChangeAsync()).Sequence);
    }

    [Fact]
    public async Task Commits_are_durable_by_default_and_the_setting_weakens_them()
    {
        await using (var db = await _backend.OpenAsync())
            Assert.Equal(Durable(db.Store), await SynchronousSettingAsync(db.Store));
        await using (var db = await _backend.OpenAsync(new StorageOptions { Durability = StorageDurability.Normal }))
            Assert.Equal(Weakened(db.Store), await SynchronousSettingAsync(db.Store));

        static string Durable(IResourceStore store) => ((ResourceStore)store).Dialect is SqliteDialect ? "2" : "on";
        static string Weakened(IResourceStore store) => ((ResourceStore)store).Dialect is SqliteDialect ? "1" : "off";
    }

    private static async Task<string> SynchronousSettingAsync(IResourceStore store)
    {
        var dialect = ((ResourceStore)store).Dialect;
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        // SQLite: 2 is FULL, 1 NORMAL (per connection, set by the store on every connection it opens).
        command.CommandText = dialect is SqliteDialect ? "PRAGMA synchronous" : "SHOW synchronous_commit";
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static async Task<PreparedWriteResult> WriteOneAsync(IResourceStore store, Resource resource) =>
        (await store.TransactionAsync((tx, ct) => tx.WriteAsync([new PreparedWrite(store.Prepare(resource), PreparedWriteKind.Update)], ct)))[0];

    private static async Task<string> RawContentAsync(IResourceStore store, string type, string id, int version)
    {
        await using var connection = await ((ResourceStore)store).Dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT content FROM resource_version WHERE resource_type = '{type}' AND resource_id = '{id}' AND version_id = {version}";
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A version's content as the engine holds it, its storage class (SQLite: text, not blob) and its content hash.</summary>
    private static async Task<(string Content, string Kind, string Hash)> RawVersionAsync(IResourceStore store, string type, string id, int version)
    {
        var dialect = ((ResourceStore)store).Dialect;
        await using var connection = await dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        var kind = dialect is SqliteDialect ? "typeof(content)" : "'text'";
        command.CommandText = $"SELECT content, {kind}, content_hash FROM resource_version WHERE resource_type = '{type}' AND resource_id = '{id}' AND version_id = {version}";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.GetString(1), reader.GetString(2));
    }

    private static async Task ExecuteAsync(IResourceStore store, string sql)
    {
        await using DbConnection connection = await ((ResourceStore)store).Dialect.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class SqliteWritePipelineTests : WritePipelineContract<SqliteBackend>;

public sealed class PostgresWritePipelineTests : WritePipelineContract<PostgresBackend>;
