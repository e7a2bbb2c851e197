using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using FhirCaseService.BenchSupport;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Persistence;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.StorageBench;

/// <summary>
/// The storage half of the write pipeline as the API drives it: each transaction is one patient's twelve resources,
/// prepared (copy, serialization, index extraction, hash) by the writer before <see cref="IResourceStore.TransactionAsync{T}"/>,
/// then written with one <see cref="IResourceTransaction.WriteAsync"/>. Runs 1 and 4 concurrent writers on a fresh
/// database each and reports resources/s and how long the write lock was held.
/// </summary>
internal static class WriteBench
{
    public static async Task RunAsync(string[] args, string examples)
    {
        var backend = args.Length > 0 ? args[0] : "both";
        var transactions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var durability = args.Length > 2 ? args[2] : "Full";
        var templates = ExampleRecords.Load(examples);
        Console.WriteLine($"write bench: {transactions} transactions x {templates.Count} resources, durability {durability}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Breakdown(templates);
        if (backend is "sqlite" or "both")
            await OnSqliteAsync(options => LargeTransactionAsync("SQLite", options, templates), durability);
        if (backend is "postgres" or "both")
            await OnPostgresAsync(options => LargeTransactionAsync("PostgreSQL", options, templates), durability);
        foreach (var writers in new[] { 1, 4 })
        {
            if (backend is "sqlite" or "both")
                await OnSqliteAsync(options => MeasureAsync("SQLite", options, templates, transactions, writers), durability);
            if (backend is "postgres" or "both")
                await OnPostgresAsync(options => MeasureAsync("PostgreSQL", options, templates, transactions, writers), durability);
        }
    }

    private static async Task OnSqliteAsync(Func<StorageOptions, Task> run, string durability)
    {
        using var directory = new ScratchDirectory("fhircase-write-bench");
        await run(Durable(new StorageOptions { DataDirectory = directory.Path }, durability));
    }

    private static async Task OnPostgresAsync(Func<StorageOptions, Task> run, string durability)
    {
        await using var schema = await ScratchSchema.CreateAsync("bench_");
        await run(Durable(new StorageOptions
        {
            Provider = StorageProvider.PostgreSql,
            ConnectionString = schema.ConnectionString,
        }, durability));
    }

    private static StorageOptions Durable(StorageOptions options, string durability)
    {
        options.Durability = Enum.Parse<StorageDurability>(durability, ignoreCase: true);
        return options;
    }

    private static async Task MeasureAsync(string name, StorageOptions options, ExampleRecords templates, int transactions, int writers)
    {
        await using var store = await ResourceStoreFactory.OpenAsync(options);
        using var locks = new LockTimes();
        // Warm-up: the first transactions pay JIT and the catalog's FHIRPath compilation.
        for (var i = 0; i < 20; i++)
            await WriteRecordAsync(store, Record(templates, $"w{i:D5}"));
        locks.Reset();

        var next = -1;
        var work = new List<double>();
        var totals = new List<double>();
        var prepare = 0.0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int t;
            while ((t = Interlocked.Increment(ref next)) < transactions)
            {
                var record = Record(templates, $"p{t:D5}");
                var (prepared, workMs, totalMs) = await WriteRecordAsync(store, record);
                lock (work)
                {
                    prepare += prepared;
                    work.Add(workMs);
                    totals.Add(totalMs);
                }
            }
        })));
        watch.Stop();
        var resources = transactions * templates.Count;
        var wall = watch.Elapsed.TotalMilliseconds;
        Console.WriteLine($"{name}, {writers} writer(s): {resources} resources in {wall / 1000:F1} s = {resources / watch.Elapsed.TotalSeconds:F0} resources/s " +
                          $"({transactions / watch.Elapsed.TotalSeconds:F0} transactions/s)");
        Console.WriteLine($"  per transaction: prepare {prepare / transactions:F2} ms (outside the lock), WriteAsync {work.Average():F2} ms, " +
                          $"TransactionAsync {totals.Average():F2} ms p50 {new Latency(totals).Percentile(50):F2} p95 {new Latency(totals).Percentile(95):F2}");
        Console.WriteLine($"  WriteAsync share of a transaction's time: mean {work.Zip(totals, (w, t) => w / t).Average():P0}, max {work.Zip(totals, (w, t) => w / t).Max():P0}");
        locks.Report(wall);
    }

    /// <summary>
    /// Where a transaction's CPU time goes, step by step, on one thread: the steps that ran under the write lock before
    /// the pipeline (copy, index extraction, serialization) and now run in Prepare, and the splice that remains.
    /// </summary>
    private static void Breakdown(ExampleRecords templates)
    {
        var record = Record(templates, "x");
        var indexer = new FhirCaseService.Storage.Indexing.ResourceIndexer(FhirCaseService.Storage.Indexing.SearchParameterCatalog.Shared, FhirCaseService.Storage.Indexing.SortableTokens.None);
        const int rounds = 300;
        double Time(Action<Resource> step)
        {
            foreach (var r in record)
                step(r);
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < rounds; i++)
                foreach (var r in record)
                    step(r);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / rounds;
        }
        var copy = Time(r => r.DeepCopy());
        var extract = Time(r => indexer.Extract(r));
        var serialize = Time(r => FhirSerialization.ToJson(r));
        var template = Time(r => StoredJsonTemplate.Of((Resource)r.DeepCopy())) - copy;
        var templates12 = record.Select(r => StoredJsonTemplate.Of((Resource)r.DeepCopy())).ToList();
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < rounds; i++)
        {
            var lastUpdated = StoredJson.FormatLastUpdated(DateTimeOffset.UtcNow);
            foreach (var t in templates12)
                t.Fill("2", lastUpdated);
        }
        var fill = Stopwatch.GetElapsedTime(start).TotalMilliseconds / rounds;
        Console.WriteLine($"CPU per 12-resource transaction, one thread: deep copy {copy:F2} ms, index extraction {extract:F2} ms, " +
                          $"serialization {serialize:F2} ms, template (serialization + hash) {template:F2} ms; at commit: splice {fill:F3} ms");
    }

    /// <summary>A 1,000-resource transaction (the API's default entry limit): 84 patients' records in one WriteAsync.</summary>
    private static async Task LargeTransactionAsync(string name, StorageOptions options, ExampleRecords templates)
    {
        await using var store = await ResourceStoreFactory.OpenAsync(options);
        await WriteRecordAsync(store, Record(templates, "warm"));
        for (var round = 0; round < 3; round++)
        {
            var resources = Enumerable.Range(0, 84).SelectMany(p => Record(templates, $"r{round}p{p:D3}")).Take(1000).ToList();
            var start = Stopwatch.GetTimestamp();
            var writes = resources.Select(r => new PreparedWrite(store.Prepare(r), PreparedWriteKind.Update)).ToList();
            var prepared = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var begin = Stopwatch.GetTimestamp();
            await store.TransactionAsync((tx, ct) => tx.WriteAsync(writes, ct));
            Console.WriteLine($"{name}: 1,000-resource transaction: prepare {prepared:F0} ms (outside the lock), commit {Stopwatch.GetElapsedTime(begin).TotalMilliseconds:F0} ms");
        }
    }

    private static async Task<(double PrepareMs, double WorkMs, double TotalMs)> WriteRecordAsync(IResourceStore store, List<Resource> record)
    {
        var start = Stopwatch.GetTimestamp();
        var writes = record.Select(r => new PreparedWrite(store.Prepare(r), PreparedWriteKind.Update)).ToList();
        var prepared = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var begin = Stopwatch.GetTimestamp();
        var workMs = await store.TransactionAsync(async (tx, ct) =>
        {
            var inside = Stopwatch.GetTimestamp();
            await tx.WriteAsync(writes, ct);
            return Stopwatch.GetElapsedTime(inside).TotalMilliseconds;
        });
        return (prepared, workMs, Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
    }

    private static List<Resource> Record(ExampleRecords templates, string prefix) => templates.For(prefix)
        .Select(json => FhirSerialization.StrictJson.DeserializeResource(json))
        .ToList();

    /// <summary>The store's write-lock measurements (<see cref="StorageMetrics"/>), collected in-process.</summary>
    private sealed class LockTimes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _groupHeld = [];
        private readonly List<double> _groupSize = [];

        public LockTimes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == StorageMetrics.MeterName)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
            {
                lock (_groupHeld)
                {
                    if (instrument.Name == StorageMetrics.GroupLockHeld) _groupHeld.Add(value);
                    else if (instrument.Name == StorageMetrics.GroupSize) _groupSize.Add(value);
                }
            });
            _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
            {
                lock (_groupHeld)
                    if (instrument.Name == StorageMetrics.GroupSize) _groupSize.Add(value);
            });
            _listener.Start();
        }

        public void Reset()
        {
            lock (_groupHeld)
            {
                _groupHeld.Clear();
                _groupSize.Clear();
            }
        }

        public void Report(double wallMs)
        {
            lock (_groupHeld)
            {
                if (_groupHeld.Count == 0)
                    return;
                Console.WriteLine($"  groups: {_groupHeld.Count}, {_groupSize.Average():F2} transactions per group; lock held per group mean {_groupHeld.Average():F2} ms " +
                                  $"p95 {new Latency(_groupHeld).Percentile(95):F2} ms; lock held {_groupHeld.Sum() / wallMs:P0} of the wall time");
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
