using FhirCaseService.Storage.Export;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Tests.Export;

/// <summary>
/// One fresh database with the resource store and the export job store over the same <see cref="StorageDatabase"/>
/// (as in the service), a settable clock for leases and expiry, and builders for the resources and requests the
/// export tests use.
/// </summary>
internal sealed class ExportHarness : IAsyncDisposable
{
    private readonly TestStore _db;

    private ExportHarness(TestStore db, StorageDatabase database, IResourceStore resources, int batchSize, int drivingMembersLimit)
    {
        _db = db;
        Database = database;
        Resources = resources;
        Jobs = new ExportJobStore(database, Clock, batchSize, drivingMembersLimit);
    }

    public StorageDatabase Database { get; }
    public IResourceStore Resources { get; }
    public ExportJobStore Jobs { get; }
    public SettableClock Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero));

    /// <summary>The options of the database: open another <see cref="StorageDatabase"/> on them to act as a second replica.</summary>
    public StorageOptions Options => _db.Options;

    /// <param name="drivingMembersLimit">0 makes member populations take the per-row path that large groups take.</param>
    public static async Task<ExportHarness> OpenAsync(IStoreBackend backend, int batchSize = ExportJobStore.DefaultBatchSize,
        int drivingMembersLimit = ExportRowQuery.DefaultDrivingMembersLimit)
    {
        var db = await backend.OpenAsync();
        var database = new StorageDatabase(db.Options);
        return new ExportHarness(db, database, await database.ResourcesAsync(CancellationToken.None), batchSize, drivingMembersLimit);
    }

    public async Task<List<ExportRow>> ReadAllAsync(ExportJob job, string type, long afterKey = 0)
    {
        var rows = new List<ExportRow>();
        await foreach (var row in Jobs.ReadAsync(job, type, afterKey))
            rows.Add(row);
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        await _db.DisposeAsync();
    }

    public static ExportRequest Request(ExportLevel level, string[] types, DateTimeOffset? since = null, string? groupId = null,
        string[]? typeFilters = null, string[]? patientIds = null, bool includeDeleted = false) =>
        new(level, groupId, types, since, typeFilters ?? [], patientIds ?? [], "https://fhircase.example.org/fhir/$export", "registry-client", includeDeleted);

    public static Patient Patient(string id) => new() { Id = id, Gender = AdministrativeGender.Female, BirthDate = "2012-05-01" };

    public static Observation Observation(string id, string patientId, string code = "mrd") => new()
    {
        Id = id,
        Status = ObservationStatus.Final,
        Code = new CodeableConcept("https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts", code),
        Subject = new ResourceReference("Patient/" + patientId),
        Effective = new FhirDateTime("2021-02-01"),
    };

    public static Group Group(string id, params (string PatientId, bool Inactive)[] members) => new()
    {
        Id = id,
        Type = Hl7.Fhir.Model.Group.GroupType.Person,
        Actual = true,
        Member = members.Select(m => new Group.MemberComponent
        {
            Entity = new ResourceReference("Patient/" + m.PatientId),
            Inactive = m.Inactive ? true : null,
        }).ToList(),
    };
}

internal sealed class SettableClock(DateTimeOffset start) : TimeProvider
{
    private long _nowTicks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _nowTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _nowTicks, by.Ticks);
}
