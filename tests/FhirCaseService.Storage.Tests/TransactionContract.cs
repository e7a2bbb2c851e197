using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>Units of work and concurrent writers; run against every backend.</summary>
public abstract class TransactionContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    [Fact]
    public async Task A_transaction_writes_every_resource_with_one_change_sequence_and_lastUpdated()
    {
        await using var db = await _backend.OpenAsync();
        var stored = await db.Store.TransactionAsync(async (tx, ct) =>
        {
            var written = new List<StoredResource>();
            foreach (var resource in Examples.Record("t"))
                written.Add(await tx.CreateAsync(resource, ct));
            return written;
        });

        Assert.Equal(12, stored.Count);
        Assert.Single(stored.Select(s => (s.ChangeSequence, s.LastUpdated)).Distinct());
        var mark = await db.Store.CurrentChangeAsync();
        Assert.Equal(stored[0].ChangeSequence, mark.Sequence);
    }

    [Fact]
    public async Task A_failing_transaction_writes_nothing()
    {
        await using var db = await _backend.OpenAsync();
        var before = await db.Store.CurrentChangeAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => db.Store.TransactionAsync<int>(async (tx, ct) =>
        {
            await tx.CreateAsync(Examples.Patient("f"), ct);
            await tx.CreateAsync(Examples.Load<Observation>("Observation-example-cd22.json", "f"), ct);
            throw new InvalidOperationException("entry 3 failed validation");
        }));

        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Patient", "f-patient")).Status);
        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Observation", "f-cd22")).Status);
        Assert.Empty((await db.Store.SearchAsync(SearchQuery.Parse("Observation", [new("code", "51124-6")]))).Matches);
        Assert.Equal(before, await db.Store.CurrentChangeAsync());
    }

    [Fact]
    public async Task A_version_conflict_inside_a_transaction_rolls_back_the_earlier_entries()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.CreateAsync(Examples.Patient("vc"));

        await Assert.ThrowsAsync<VersionConflictException>(() => db.Store.TransactionAsync(async (tx, ct) =>
        {
            await tx.CreateAsync(Examples.Load<Condition>("Condition-example-diagnosis.json", "vc"), ct);
            return await tx.UpdateAsync(Examples.Patient("vc"), ifMatchVersion: 7, ct);
        }));

        Assert.Equal(ReadStatus.NotFound, (await db.Store.ReadAsync("Condition", "vc-diagnosis")).Status);
        Assert.Equal(1, (await db.Store.ReadAsync("Patient", "vc-patient")).Version!.VersionId);
    }

    [Fact]
    public async Task Ids_assigned_up_front_let_entries_reference_each_other()
    {
        await using var db = await _backend.OpenAsync();
        var patientId = db.Store.NewId();
        await db.Store.TransactionAsync(async (tx, ct) =>
        {
            var patient = Examples.Patient("ref");
            patient.Id = patientId;
            var condition = Examples.Load<Condition>("Condition-example-diagnosis.json", "ref");
            condition.Id = tx.NewId();
            condition.Subject = new ResourceReference("Patient/" + patientId);
            await tx.CreateAsync(condition, ct);
            return await tx.CreateAsync(patient, ct);
        });

        var found = await db.Store.SearchAsync(SearchQuery.Parse("Condition", [new("subject", "Patient/" + patientId)]));
        Assert.Single(found.Matches);
    }

    [Fact]
    public async Task Find_inside_a_transaction_sees_its_own_writes_for_conditional_create()
    {
        await using var db = await _backend.OpenAsync();
        var criteria = SearchQuery.Parse("Patient", [new("identifier", "https://fhircase.example.org/fhir/sid/case-series-pseudonym|cc")]);

        var (before, after) = await db.Store.TransactionAsync(async (tx, ct) =>
        {
            var none = await tx.FindAsync(criteria, 2, ct);
            await tx.CreateAsync(Examples.Patient("cc"), ct);
            var one = await tx.FindAsync(criteria, 2, ct);
            return (none.Count, one.Count);
        });

        Assert.Equal((0, 1), (before, after));
        var read = await db.Store.TransactionAsync((tx, ct) => tx.ReadAsync("Patient", "cc-patient", ct));
        Assert.Equal(ReadStatus.Found, read.Status);
    }

    [Fact]
    public async Task Concurrent_writers_with_if_match_lose_no_update_and_sequence_only_grows()
    {
        await using var db = await _backend.OpenAsync();
        await db.Store.CreateAsync(Examples.Patient("cw"));
        const int writers = 2, updatesEach = 10;

        async Task Writer()
        {
            for (var done = 0; done < updatesEach;)
            {
                var current = await db.Store.ReadAsync("Patient", "cw-patient");
                try
                {
                    await db.Store.UpdateAsync(Examples.Patient("cw"), current.Version!.VersionId);
                    done++;
                }
                catch (VersionConflictException)
                {
                    // The other writer got in between: read again and retry, as a client answering 412 would.
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(Writer)));

        var history = await db.Store.HistoryAsync(new HistoryQuery("Patient", "cw-patient", Count: 100));
        Assert.Equal(1 + writers * updatesEach, history.Entries.Count);
        Assert.Equal(1 + writers * updatesEach, history.Entries[0].VersionId);
        var ordered = history.Entries.Reverse().ToList();
        Assert.True(ordered.Zip(ordered.Skip(1)).All(p => p.Second.ChangeSequence > p.First.ChangeSequence && p.Second.LastUpdated > p.First.LastUpdated));
    }

    [Fact]
    public async Task Concurrent_creates_get_distinct_increasing_sequences()
    {
        await using var db = await _backend.OpenAsync();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => db.Store.CreateAsync(Examples.Patient("cc" + i)))));

        Assert.Equal(20, results.Select(r => r.ChangeSequence).Distinct().Count());
        var bySequence = results.OrderBy(r => r.ChangeSequence).ToList();
        Assert.True(bySequence.Zip(bySequence.Skip(1)).All(p => p.Second.LastUpdated > p.First.LastUpdated));
    }
}

public sealed class SqliteTransactionTests : TransactionContract<SqliteBackend>;

public sealed class PostgresTransactionTests : TransactionContract<PostgresBackend>;
