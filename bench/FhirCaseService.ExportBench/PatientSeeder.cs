using System.Diagnostics;
using System.Threading.Channels;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.ExportBench;

/// <param name="CpuTime">CPU time of this process (the storage API's work; PostgreSQL's own is not in it).</param>
public sealed record SeedResult(int Patients, int Resources, TimeSpan Elapsed, TimeSpan CpuTime)
{
    public double ResourcesPerSecond => Resources / Elapsed.TotalSeconds;
}

/// <summary>
/// Writes patients' records straight through the storage API (no HTTP, no validation): the twelve valid examples per
/// patient with ids, references and pseudonym renamed per patient, many patients per database transaction. Parsing
/// runs on another thread than the writes, so on two cores the single writer (writes are serialized by design) is the
/// only bottleneck.
/// </summary>
public sealed class PatientSeeder(IReadOnlyList<string> templates, int patientsPerTransaction)
{
    public int ResourcesPerPatient => templates.Count;

    /// <summary>The id the seeded patient number <paramref name="patient"/> gets; six digits keep 100,000 patients apart.</summary>
    public static string Prefix(int patient) => $"p{patient:D6}";

    public static string PatientId(int patient) => Prefix(patient) + "-patient";

    /// <summary>Patients already in the database (a kept database seeded by an earlier run).</summary>
    public static async System.Threading.Tasks.Task<int> CountAsync(StorageOptions storage, CancellationToken cancellationToken = default)
    {
        await using var store = await ResourceStoreFactory.OpenAsync(storage, cancellationToken);
        var result = await store.SearchAsync(SearchQuery.Parse("Patient", [new("_total", "accurate"), new("_count", "1")]), cancellationToken);
        return result.Total ?? 0;
    }

    /// <summary>Adds patients <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    public async System.Threading.Tasks.Task<SeedResult> SeedAsync(StorageOptions storage, int from, int to, CancellationToken cancellationToken = default)
    {
        await using var store = await ResourceStoreFactory.OpenAsync(storage, cancellationToken);
        var batches = Channel.CreateBounded<List<Resource>>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var start = from; start < to; start += patientsPerTransaction)
                {
                    var batch = new List<Resource>(patientsPerTransaction * templates.Count);
                    for (var p = start; p < Math.Min(to, start + patientsPerTransaction); p++)
                        batch.AddRange(Record(p));
                    await batches.Writer.WriteAsync(batch, cancellationToken);
                }
                batches.Writer.Complete();
            }
            catch (Exception e)
            {
                batches.Writer.Complete(e);
            }
        }, cancellationToken);

        var watch = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var written = 0;
        var lastReport = TimeSpan.Zero;
        await foreach (var batch in batches.Reader.ReadAllAsync(cancellationToken))
        {
            await store.TransactionAsync(async (tx, ct) =>
            {
                foreach (var resource in batch)
                    await tx.CreateAsync(resource, ct);
                return batch.Count;
            }, cancellationToken);
            written += batch.Count;
            if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(30))
            {
                lastReport = watch.Elapsed;
                Console.WriteLine($"    ... {from + written / templates.Count:N0} patients, {written / watch.Elapsed.TotalSeconds:F0} resources/s so far");
            }
        }
        await producer;
        watch.Stop();
        return new SeedResult(to - from, written, watch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private IEnumerable<Resource> Record(int patient)
    {
        var prefix = Prefix(patient);
        return templates
            .Select(json => FhirCaseService.TestSupport.ExampleIds.Rename(json, prefix))
            .Select(json => FhirSerialization.StrictJson.DeserializeResource(json));
    }
}
