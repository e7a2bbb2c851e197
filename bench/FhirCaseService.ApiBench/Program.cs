using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using FhirCaseService.ApiBench;
using FhirCaseService.BenchSupport;

// REST API benchmark: EHR-style ingest over HTTP (one transaction Bundle per patient: the twelve valid examples as PUT
// entries) with validation on and off, then the main searches' latency p50/p95 over HTTP.
//   dotnet run -c Release --project bench/FhirCaseService.ApiBench -- [sqlite|postgres|both] [patients] [validatedPatients]
// The first validatedPatients patients go in with validation on, the rest with validation off (same database), so the
// searches run over all patients. PostgreSQL comes from FHIRCASE_TEST_POSTGRES (tools/ci/start-postgres.sh).
//
// Ingest matrix (issue 11's write-path targets): transactions of one case-series patient each, 1 and 4 concurrent
// clients, validation on and off, and the largest share of a request's time spent holding the write lock:
//   dotnet run -c Release --project bench/FhirCaseService.ApiBench -- ingest [sqlite|postgres|both] [transactions] [on|off] [1|4]
// (the optional on/off and 1/4 run only those rows of the matrix)
// One transaction of 1,000 and of 10,000 entries (linear in size):
//   dotnet run -c Release --project bench/FhirCaseService.ApiBench -- big [sqlite|postgres] [entries...]
if (args.Length > 0 && args[0] == "big")
{
    await IngestBench.BigAsync(args.Length > 1 ? args[1] : "sqlite",
        args.Length > 2 ? [.. args[2..].Select(a => int.Parse(a, CultureInfo.InvariantCulture))] : [1_000, 10_000]);
    return;
}
if (args.Length > 0 && args[0] == "ingest")
{
    await IngestBench.RunAsync(args.Length > 1 ? args[1] : "both", args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200, args.Length > 3 ? args[3..] : []);
    return;
}

var backend = args.Length > 0 ? args[0] : "both";
var patients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var validated = Math.Min(patients, args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200);
var templates = ExampleRecords.Load();

Console.WriteLine($"api bench: {patients} patients x {templates.Count} resources ({validated} with validation on), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
if (backend is "sqlite" or "both")
{
    using var directory = new ScratchDirectory("fhircase-api-bench");
    await MeasureAsync("SQLite", new Dictionary<string, string?> { ["Storage:Provider"] = "Sqlite", ["Storage:DataDirectory"] = directory.Path });
}
if (backend is "postgres" or "both")
{
    await using var schema = await ScratchSchema.CreateAsync("apibench_");
    await MeasureAsync("PostgreSQL", new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "PostgreSql",
        ["Storage:ConnectionString"] = schema.ConnectionString,
    });
}
return;

async Task MeasureAsync(string name, Dictionary<string, string?> storage)
{
    Console.WriteLine($"{name}:");
    if (validated > 0)
        await IngestAsync(storage, validation: true, 0, validated);
    if (patients > validated)
        await IngestAsync(storage, validation: false, validated, patients);
    await using var host = new ApiHost(Settings(storage, validation: false));
    await SearchMixAsync(host.CreateClient());
}

async Task IngestAsync(Dictionary<string, string?> storage, bool validation, int from, int to)
{
    await using var host = new ApiHost(Settings(storage, validation));
    using var client = host.CreateClient();
    // One transaction first so start-up costs (schema compilation, JIT) are not counted.
    await IngestBench.PostAsync(client, Transaction($"warm{(validation ? "v" : "n")}"));
    var watch = Stopwatch.StartNew();
    for (var p = from; p < to; p++)
        await IngestBench.PostAsync(client, Transaction($"p{p:D5}"));
    watch.Stop();
    var resources = (to - from) * templates.Count;
    Console.WriteLine($"  ingest, validation {(validation ? "on " : "off")}: {to - from} transactions, {resources} resources in {watch.Elapsed.TotalSeconds:F1} s = " +
                      $"{resources / watch.Elapsed.TotalSeconds:F0} resources/s");
}

Dictionary<string, string?> Settings(Dictionary<string, string?> storage, bool validation) => new(storage)
{
    ["Validation:Enabled"] = validation ? "true" : "false",
    ["Startup:LoadExamples"] = "false",
    // The bench measures storage and validation, not tokens; authorization is on by default outside Development.
    ["Authorization:Enabled"] = "false",
    ["Logging:LogLevel:Default"] = "Warning",
    ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
    // The bench is one client sending thousands of requests a second: the per-client rate limit would measure itself.
    ["Limits:RateLimit:Enabled"] = "false",
};

async Task SearchMixAsync(HttpClient client)
{
    const string pseudonym = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";
    var random = new Random(42);
    string Someone() => $"p{random.Next(patients):D5}";
    var mix = new (string Label, Func<string> Path)[]
    {
        ("GET Patient/{id}", () => $"/Patient/{Someone()}-patient"),
        ("Patient?identifier=sys|value", () => $"/Patient?identifier={Uri.EscapeDataString($"{pseudonym}|{Someone()}")}"),
        ("Observation?subject=Patient/{id}&code=51124-6", () => $"/Observation?subject=Patient/{Someone()}-patient&code=51124-6"),
        ("Observation?subject:Patient.identifier=...", () => $"/Observation?subject:Patient.identifier={Uri.EscapeDataString($"{pseudonym}|{Someone()}")}"),
        ("Observation?code=mrd&date=ge2021-03&_count=20", () => "/Observation?code=mrd&date=ge2021-03&_count=20"),
        ("Observation?code=mrd&_sort=-date&_count=20", () => "/Observation?code=mrd&_sort=-date&_count=20"),
        ("Condition?subject={id}&_include=Condition:subject", () => $"/Condition?subject={Someone()}-patient&_include=Condition:subject"),
        ("Patient?_has:Observation:subject:code=51124-6&_count=20", () => "/Patient?_has:Observation:subject:code=51124-6&_count=20"),
        ("Patient/{id}/$everything", () => $"/Patient/{Someone()}-patient/$everything?_count=100"),
    };
    const int runs = 100;
    foreach (var (label, path) in mix)
    {
        var latency = await Latency.MeasureAsync(() => GetAsync(client, path()), runs);
        Console.WriteLine($"  {label,-58} {latency.P50P95}");
    }
}

string Transaction(string prefix)
{
    var entries = new JsonArray();
    foreach (var json in templates.For(prefix))
    {
        var resource = JsonNode.Parse(json)!;
        var key = $"{resource["resourceType"]}/{resource["id"]}";
        entries.Add(new JsonObject { ["resource"] = resource, ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = key } });
    }
    return new JsonObject { ["resourceType"] = "Bundle", ["type"] = "transaction", ["entry"] = entries }.ToJsonString();
}

static async Task GetAsync(HttpClient client, string path)
{
    using var response = await client.GetAsync(path);
    if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.NotFound))
        throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    await response.Content.ReadAsByteArrayAsync();
}
