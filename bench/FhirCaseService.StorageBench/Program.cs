using System.Diagnostics;
using System.Globalization;
using FhirCaseService.BenchSupport;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Persistence;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Npgsql;

// Storage benchmark: ingest N patients' records (the twelve valid examples per patient, one transaction each, as an
// EHR pushes them) and time a fixed mix of searches over the result.
//   dotnet run -c Release --project bench/FhirCaseService.StorageBench -- [sqlite|postgres|both] [patients] [examplesDir]
// Prepared batched writes (the write pipeline: Prepare outside the lock, one WriteAsync per 12-resource transaction),
// with 1 and 4 concurrent writers:
//   dotnet run -c Release --project bench/FhirCaseService.StorageBench -- write [sqlite|postgres|both] [transactions] [Full|Normal]
// PostgreSQL comes from FHIRCASE_TEST_POSTGRES (tools/ci/start-postgres.sh); the run uses a fresh schema and drops it.

if (args.Length > 0 && args[0] == "write")
{
    await FhirCaseService.StorageBench.WriteBench.RunAsync(args[1..], ExampleRecords.DefaultDirectory);
    return;
}

var backend = args.Length > 0 ? args[0] : "both";
var patients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var templates = ExampleRecords.Load(args.Length > 2 ? args[2] : null);

Console.WriteLine($"storage bench: {patients} patients x {templates.Count} resources, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
if (backend is "sqlite" or "both")
    await RunSqliteAsync();
if (backend is "postgres" or "both")
    await RunPostgresAsync();
return;

async System.Threading.Tasks.Task RunSqliteAsync()
{
    using var directory = new ScratchDirectory("fhircase-storage-bench");
    var store = await ResourceStoreFactory.OpenAsync(new StorageOptions { DataDirectory = directory.Path });
    try
    {
        await MeasureAsync("SQLite", store);
        var size = new DirectoryInfo(directory.Path).EnumerateFiles().Sum(f => f.Length);
        Console.WriteLine($"  database files: {size / 1024.0 / 1024.0:F0} MB");
    }
    finally
    {
        await store.DisposeAsync();
    }
}

async System.Threading.Tasks.Task RunPostgresAsync()
{
    await using var schema = await ScratchSchema.CreateAsync("bench_");
    var store = await ResourceStoreFactory.OpenAsync(new StorageOptions
    {
        Provider = StorageProvider.PostgreSql,
        ConnectionString = schema.ConnectionString,
    });
    try
    {
        await MeasureAsync("PostgreSQL", store);
        await using var connection = new NpgsqlConnection(ScratchSchema.AdminConnectionString);
        await connection.OpenAsync();
        await using var size = new NpgsqlCommand($"SELECT sum(pg_total_relation_size(quote_ident(schemaname) || '.' || quote_ident(tablename))) FROM pg_tables WHERE schemaname = '{schema.Name}'", connection);
        Console.WriteLine($"  database size: {Convert.ToDouble(await size.ExecuteScalarAsync(), CultureInfo.InvariantCulture) / 1024 / 1024:F0} MB");
    }
    finally
    {
        await store.DisposeAsync();
    }
}

async System.Threading.Tasks.Task MeasureAsync(string name, IResourceStore store)
{
    Console.WriteLine($"{name}:");
    var watch = Stopwatch.StartNew();
    var resources = 0;
    for (var p = 0; p < patients; p++)
    {
        var record = Record($"p{p:D5}");
        await store.TransactionAsync(async (tx, ct) =>
        {
            foreach (var resource in record)
                await tx.UpdateAsync(resource, null, ct);
            return record.Count;
        });
        resources += record.Count;
        if ((p + 1) % 1000 == 0)
            Console.WriteLine($"  ... {p + 1} patients, {resources / watch.Elapsed.TotalSeconds:F0} resources/s so far");
    }
    watch.Stop();
    Console.WriteLine($"  ingest: {resources} resources in {watch.Elapsed.TotalSeconds:F1} s = {resources / watch.Elapsed.TotalSeconds:F0} resources/s ({patients / watch.Elapsed.TotalSeconds:F0} transactions/s)");

    const string pseudonym = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";
    var random = new Random(42);
    string Someone() => $"p{random.Next(patients):D5}";
    var mix = new (string Label, Func<Task<int>> Run)[]
    {
        ("read Patient/{id}", async () => (await store.ReadAsync("Patient", Someone() + "-patient")).Status == ReadStatus.Found ? 1 : 0),
        ("Patient?identifier=sys|value", () => Search("Patient", ("identifier", $"{pseudonym}|{Someone()}"))),
        ("Observation?subject=Patient/{id}&code=51124-6", () => Search("Observation", ("subject", $"Patient/{Someone()}-patient"), ("code", "51124-6"))),
        ("Observation?subject:Patient.identifier=...", () => Search("Observation", ("subject:Patient.identifier", $"{pseudonym}|{Someone()}"))),
        ("Observation?code=mrd&date=ge2021-03&_count=20", () => Search("Observation", ("code", "mrd"), ("date", "ge2021-03"), ("_count", "20"))),
        ("Observation?code=mrd&_sort=-date&_count=20", () => Search("Observation", ("code", "mrd"), ("_sort", "-date"), ("_count", "20"))),
        ("Observation?value-quantity=gt90&_total=accurate", () => Search("Observation", ("value-quantity", "gt90"), ("_total", "accurate"))),
        ("Condition?subject={id}&_include=Condition:subject", () => Search("Condition", ("subject", Someone() + "-patient"), ("_include", "Condition:subject"))),
        ("Patient?_has:Observation:subject:code=51124-6&_count=20", () => Search("Patient", ("_has:Observation:subject:code", "51124-6"), ("_count", "20"))),
        ("Patient/{id}/$everything", async () => (await store.EverythingAsync(new EverythingQuery(Someone() + "-patient", Count: 100))).Matches.Count),
    };
    const int runs = 200;
    foreach (var (label, run) in mix)
    {
        var (latency, found) = await Latency.MeasureAsync(run, runs);
        Console.WriteLine($"  {label,-60} {latency.P50P95}  ({found.Sum() / (double)runs:F1} results)");
    }

    async Task<int> Search(string type, params (string Name, string Value)[] pairs) =>
        (await store.SearchAsync(SearchQuery.Parse(type, pairs.Select(p => new KeyValuePair<string, string>(p.Name, p.Value))))).Matches.Count;
}

List<Resource> Record(string prefix) => templates.For(prefix)
    .Select(json => FhirSerialization.StrictJson.DeserializeResource(json))
    .ToList();
