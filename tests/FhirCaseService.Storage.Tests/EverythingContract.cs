using FhirCaseService.Storage.Search;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

/// <summary>Patient/[id]/$everything over the patient compartment; on every backend.</summary>
public abstract class EverythingContract<TBackend> where TBackend : IStoreBackend, new()
{
    private readonly TBackend _backend = new();

    private static async Task<TestStore> TwoPatientsAsync(TBackend backend)
    {
        var db = await backend.OpenAsync();
        foreach (var resource in Examples.Record("a").Concat(Examples.Record("b")))
            await db.Store.UpdateAsync(resource);
        return db;
    }

    [Fact]
    public async Task Everything_returns_the_patient_first_then_its_compartment_and_nothing_of_others()
    {
        await using var db = await TwoPatientsAsync(_backend);

        var result = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Count: 100));

        Assert.Equal("Patient/a-patient", result.Matches[0].ResourceType + "/" + result.Matches[0].Id);
        Assert.Equal(12, result.Total);
        Assert.Equal(12, result.Matches.Count);
        Assert.All(result.Matches, m => Assert.StartsWith("a-", m.Id));
    }

    [Fact]
    public async Task Everything_filters_by_type_and_since_and_pages()
    {
        await using var db = await TwoPatientsAsync(_backend);
        var mark = await db.Store.CurrentChangeAsync();
        await db.Store.UpdateAsync(Examples.Load<Hl7.Fhir.Model.Procedure>("Procedure-example-hsct.json", "a"));

        var procedures = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Types: ["Procedure"]));
        var since = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Since: mark.LastUpdated.AddMilliseconds(1)));
        var first = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Count: 5));
        var second = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Count: 5, Cursor: first.Next));
        var third = await db.Store.EverythingAsync(new EverythingQuery("a-patient", Count: 5, Cursor: second.Next));

        Assert.Equal(["a-hsct", "a-radiotherapy"], procedures.Matches.Select(m => m.Id));
        Assert.Equal(["a-hsct"], since.Matches.Select(m => m.Id));
        Assert.Equal(12, first.Matches.Concat(second.Matches).Concat(third.Matches).Select(m => m.ResourceType + m.Id).Distinct().Count());
        Assert.Null(third.Next);
    }

    [Fact]
    public async Task Everything_leaves_out_deleted_resources()
    {
        await using var db = await TwoPatientsAsync(_backend);
        await db.Store.DeleteAsync("Observation", "b-cd22");

        var result = await db.Store.EverythingAsync(new EverythingQuery("b-patient", Count: 100));

        Assert.Equal(11, result.Total);
        Assert.DoesNotContain(result.Matches, m => m.Id == "b-cd22");
    }
}

public sealed class SqliteEverythingTests : EverythingContract<SqliteBackend>;

public sealed class PostgresEverythingTests : EverythingContract<PostgresBackend>;
