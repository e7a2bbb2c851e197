using System.Diagnostics;
using System.Globalization;
using System.Net;
using FhirCaseService.BenchSupport;
using FhirCaseService.ExportBench;

// Bulk export benchmark: seeds patients straight through the storage API, runs the service as its own process over that
// database, times a system-level $export and the download of its files, and reads the server's memory from /proc.
//   bench/FhirCaseService.ExportBench/run.sh [sqlite|postgres|both] [patients ...] [--batch N] [--keep] [--seed-only] [--copy]
//       [--export-output Directory|Database] [--api path/FhirCaseService.Api.dll]
// Patient counts are cumulative levels over one database: "10000 100000" seeds 10,000, measures, adds 90,000, measures
// again. PostgreSQL comes from FHIRCASE_TEST_POSTGRES (tools/ci/start-postgres.sh); each run uses a fresh schema, or
// with --keep a fixed directory and schema left in place, which the next --keep run seeds further instead of again.
// --copy: levels above 10,000 patients are reached by copying the first 10,000 in SQL with renamed ids (PopulationCopier)
// instead of through the storage API, minutes instead of hours on a busy machine.
//
// Bulk $import benchmark (ImportBench): generated patients (fhircase generate's writer) sent as one NDJSON body to the
// service process over a fresh database, timed to the manifest, with the server's peak memory:
//   bench/FhirCaseService.ExportBench/run.sh import [sqlite|postgres|both] [patients ...] [--no-validation] [--keep-cohorts] [--keep]
// The search mix alone over the database an `import ... --keep` left (ImportBench.SearchKeptAsync):
//   bench/FhirCaseService.ExportBench/run.sh search [sqlite|postgres|both] [patients ...]
if (args is ["search", .. var searchArgs])
{
    await ImportBench.SearchKeptAsync(searchArgs, FindAbove(Path.Combine("src", "FhirCaseService.Api", "bin", "Release", "net10.0", "FhirCaseService.Api.dll")));
    return;
}
if (args is ["import", .. var importArgs])
{
    await ImportBench.RunAsync(importArgs, FindAbove(Path.Combine("src", "FhirCaseService.Api", "bin", "Release", "net10.0", "FhirCaseService.Api.dll")));
    return;
}

var arguments = BenchArguments.Parse(args, ["--keep", "--copy", "--seed-only"], ["--batch", "--export-output"]);
var levels = arguments.Levels;
var patientsPerTransaction = arguments.Option("--batch") is { } batch ? int.Parse(batch, CultureInfo.InvariantCulture) : 500;
var keep = arguments.Has("--keep");
var seedOnly = arguments.Has("--seed-only");
var copyAbove10k = arguments.Has("--copy");
var exportOutput = arguments.Option("--export-output") ?? "Directory";
var apiDll = arguments.ApiDll ?? FindAbove(Path.Combine("src", "FhirCaseService.Api", "bin", "Release", "net10.0", "FhirCaseService.Api.dll"));
var templates = Directory.GetFiles(FindAbove(Path.Combine("examples", "resources")), "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
var seeder = new PatientSeeder(templates, patientsPerTransaction);

Console.WriteLine($"export bench: {string.Join(", ", levels.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} patients x {templates.Count} resources, " +
                  $"{patientsPerTransaction} patients per seeding transaction, export output {exportOutput}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"service: {apiDll}");
Console.WriteLine($"started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineLoad.LoadAverage()}");

var results = new List<LevelResult>();
if (arguments.RunsSqlite)
{
    await using var database = BenchDatabase.Sqlite(keep);
    await MeasureAsync(database);
}
if (arguments.RunsPostgres)
{
    await using var database = await BenchDatabase.PostgresAsync(ScratchSchema.AdminConnectionString, keep);
    await MeasureAsync(database);
}

Console.WriteLine();
Console.WriteLine($"finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineLoad.LoadAverage()}");
Console.WriteLine("| backend | patients | resources | seeding (this run) | output | export time | export resources/s | export MB/s | download time | download MB/s | RSS before export | peak RSS export (sampled) | peak RSS download (sampled) | VmHWM after |");
Console.WriteLine("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var r in results)
    Console.WriteLine(r.TableRow());
return;

async Task MeasureAsync(BenchDatabase database)
{
    Console.WriteLine($"{database.Name}:");
    var seeded = await PatientSeeder.CountAsync(database.Storage);
    if (seeded > 0)
        Console.WriteLine($"  {seeded:N0} patients already there (kept by an earlier run; its seeding figures are in {SeedingLog(database)})");
    var seedingTime = TimeSpan.Zero;
    foreach (var level in levels.Where(level => level >= seeded).ToList())
    {
        if (level > seeded)
        {
            var copying = copyAbove10k && seeded >= PopulationCopier.BasePatients;
            var seed = copying
                ? await PopulationCopier.CopyAsync(database.Storage, seeded, level, templates.Count)
                : await seeder.SeedAsync(database.Storage, seeded, level);
            seedingTime += seed.Elapsed;
            var line = $"{(copying ? "copied (SQL, ids renamed)" : "seeded (storage API)")} {seed.Patients:N0} patients ({seed.Resources:N0} resources) in {seed.Elapsed.TotalSeconds:F0} s = {seed.ResourcesPerSecond:F0} resources/s " +
                       $"(bench CPU {seed.CpuTime.TotalSeconds:F0} s); " +
                       $"{level:N0} patients in all, database {Megabytes(await database.SizeAsync()):F0} MB, load average {MachineLoad.LoadAverage()}";
            Console.WriteLine("  " + line);
            await File.AppendAllTextAsync(SeedingLog(database), $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC {database.Name}: {line}{Environment.NewLine}");
            seeded = level;
        }
        if (seedOnly)
            continue;
        results.Add(await ExportAsync(database, level, seedingTime));
        var files = Path.Combine(database.Scratch, "export");
        if (Directory.Exists(files))
            Directory.Delete(files, recursive: true);
    }
}

static string SeedingLog(BenchDatabase database) => Path.Combine(database.Scratch, "seeding.log");

async Task<LevelResult> ExportAsync(BenchDatabase database, int patients, TimeSpan seedingTime)
{
    var settings = new Dictionary<string, string>(database.ServiceSettings)
    {
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["Startup__LoadExamples"] = "false",
        ["Authorization__Enabled"] = "false",
        ["Limits__RateLimit__Enabled"] = "false",
        ["Export__Output"] = exportOutput,
        ["Export__OutputDirectory"] = Path.Combine(database.Scratch, "export"),
        ["Logging__LogLevel__Default"] = "Warning",
    };
    var log = Path.Combine(database.Scratch, $"service-{patients}.log");
    await using var service = await ServiceProcess.StartAsync(apiDll, settings, log, TimeSpan.FromMinutes(2));
    using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(30) };

    // The service must see the seeded database: first and last patient readable. Also warms the request pipeline.
    foreach (var id in new[] { PatientSeeder.PatientId(0), PatientSeeder.PatientId(patients - 1) })
    {
        using var read = await client.GetAsync($"/Patient/{id}");
        if (read.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"GET /Patient/{id} answered {(int)read.StatusCode}; the service does not see the seeded database.");
    }
    using (var metadata = await client.GetAsync("/metadata"))
        metadata.EnsureSuccessStatusCode();
    // The index rows must hold the last patient too (they were copied with renamed ids under --copy).
    var expectedObservations = templates.Count(t => t.Contains("\"resourceType\": \"Observation\"", StringComparison.Ordinal));
    using (var search = await client.GetAsync($"/Observation?subject=Patient/{PatientSeeder.PatientId(patients - 1)}&_total=accurate"))
    {
        var total = System.Text.Json.JsonDocument.Parse(await search.Content.ReadAsStringAsync()).RootElement.GetProperty("total").GetInt32();
        if (total != expectedObservations)
            throw new InvalidOperationException($"Observation?subject=<last patient> found {total}, not {expectedObservations}: the search index does not hold the seeded patients.");
    }

    var before = service.ReadMemory();
    Console.WriteLine($"  service pid {service.ProcessId} on {service.BaseAddress}: RSS {Megabytes(before.Rss):F0} MB (VmHWM {Megabytes(before.PeakRss):F0} MB) before the export");
    var bulk = new BulkExportClient(client, TimeSpan.FromMilliseconds(250));

    var sampler = new RssSampler(service, TimeSpan.FromMilliseconds(100));
    ExportRun run;
    try
    {
        run = await bulk.ExportAsync(TimeSpan.FromHours(2));
    }
    catch (ExportUnavailableException e)
    {
        await sampler.StopAsync();
        Console.WriteLine($"  export not available: {e.Message}");
        return new LevelResult(database.Name, patients, patients * templates.Count, seedingTime, before, null, 0, null, TimeSpan.Zero, 0, service.ReadMemory());
    }
    var exportPeak = await sampler.StopAsync();
    var afterExport = service.ReadMemory();
    Console.WriteLine($"  export: {run.Output.Count} output files, {run.Errors.Count} error files, {run.Elapsed.TotalSeconds:F1} s ({run.Polls} polls), transactionTime {run.TransactionTime}; " +
                      $"peak RSS sampled {Megabytes(exportPeak):F0} MB, VmHWM {Megabytes(afterExport.PeakRss):F0} MB");

    sampler = new RssSampler(service, TimeSpan.FromMilliseconds(100));
    var downloads = new List<DownloadedFile>();
    var watch = Stopwatch.StartNew();
    foreach (var file in run.Output.Concat(run.Errors))
        downloads.Add(await bulk.DownloadAsync(file));
    watch.Stop();
    var downloadPeak = await sampler.StopAsync();
    var after = service.ReadMemory();

    foreach (var group in downloads.GroupBy(d => (d.File.Type, IsError: run.Errors.Contains(d.File))).OrderBy(g => g.Key.IsError).ThenBy(g => g.Key.Type, StringComparer.Ordinal))
    {
        var lines = group.Sum(d => d.Lines);
        var listed = group.Sum(d => d.File.Count ?? 0);
        Console.WriteLine($"    {(group.Key.IsError ? "error " : "")}{group.Key.Type,-26} {group.Count(),3} files {lines,10:N0} lines {Megabytes(group.Sum(d => d.Bytes)),9:F1} MB" +
                          (listed == lines ? "" : $"  (manifest count {listed:N0}: MISMATCH)"));
    }
    var result = new LevelResult(database.Name, patients, patients * templates.Count, seedingTime, before, run, exportPeak, downloads, watch.Elapsed, downloadPeak, after);
    Console.WriteLine($"  {result.Summary()}");
    if (result.ExportedResources != result.SeededResources)
        Console.WriteLine($"  WARNING: {result.ExportedResources:N0} resources exported, {result.SeededResources:N0} seeded.");
    return result;
}

static double Megabytes(long bytes) => bytes / 1024.0 / 1024.0;


static string FindAbove(string relative)
{
    foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
                return candidate;
        }
    }
    throw new FileNotFoundException($"{relative} not found above the bench's binary or the current directory (build it first, see run.sh).");
}

/// <summary>One backend at one population: what was seeded, how the export and the download went, and the server's memory.</summary>
internal sealed record LevelResult(
    string Backend,
    int Patients,
    long SeededResources,
    TimeSpan SeedingTime,
    MemoryReading BeforeExport,
    ExportRun? Export,
    long ExportPeakRss,
    IReadOnlyList<DownloadedFile>? Downloads,
    TimeSpan DownloadTime,
    long DownloadPeakRss,
    MemoryReading After)
{
    /// <summary>Resources in the output files (error files excluded).</summary>
    public long ExportedResources => Downloads?.Where(d => Export!.Output.Contains(d.File)).Sum(d => d.Lines) ?? 0;

    public long OutputBytes => Downloads?.Where(d => Export!.Output.Contains(d.File)).Sum(d => d.Bytes) ?? 0;

    private long DownloadedBytes => Downloads?.Sum(d => d.Bytes) ?? 0;

    public string Summary() => Export is null
        ? $"{Backend} {Patients:N0} patients: no export"
        : $"{Backend} {Patients:N0} patients: {ExportedResources:N0} resources, {Mb(OutputBytes):F1} MB; export {Export.Elapsed.TotalSeconds:F1} s = " +
          $"{ExportedResources / Export.Elapsed.TotalSeconds:F0} resources/s, {Mb(OutputBytes) / Export.Elapsed.TotalSeconds:F1} MB/s; download {DownloadTime.TotalSeconds:F1} s = " +
          $"{Mb(DownloadedBytes) / DownloadTime.TotalSeconds:F1} MB/s; server RSS {Mb(BeforeExport.Rss):F0} MB before, peak {Mb(ExportPeakRss):F0} MB exporting, " +
          $"{Mb(DownloadPeakRss):F0} MB downloading, VmHWM {Mb(After.PeakRss):F0} MB";

    public string TableRow() => Export is null
        ? $"| {Backend} | {Patients:N0} | {SeededResources:N0} | {SeedingTime.TotalMinutes:F1} min | no export | | | | | | {Mb(BeforeExport.Rss):F0} MB | | | {Mb(After.PeakRss):F0} MB |"
        : $"| {Backend} | {Patients:N0} | {ExportedResources:N0} | {SeedingTime.TotalMinutes:F1} min | {Mb(OutputBytes):F0} MB | {Export.Elapsed.TotalSeconds:F1} s | " +
          $"{ExportedResources / Export.Elapsed.TotalSeconds:F0} | {Mb(OutputBytes) / Export.Elapsed.TotalSeconds:F1} | {DownloadTime.TotalSeconds:F1} s | " +
          $"{Mb(DownloadedBytes) / DownloadTime.TotalSeconds:F1} | {Mb(BeforeExport.Rss):F0} MB | {Mb(ExportPeakRss):F0} MB | {Mb(DownloadPeakRss):F0} MB | {Mb(After.PeakRss):F0} MB |";

    private static double Mb(long bytes) => bytes / 1024.0 / 1024.0;
}
