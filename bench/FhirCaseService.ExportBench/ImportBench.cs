using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FhirCaseService.BenchSupport;
using FhirCaseService.CaseSeries.Synthetic;

namespace FhirCaseService.ExportBench;

/// <summary>
/// Bulk <c>$import</c> benchmark (issue 11: at least 10,000 resources/s with validation on, 100,000 generated patients,
/// peak RSS flat in N). Per population: a synthetic cohort (<see cref="SyntheticCohortWriter"/>, NDJSON, seed 1) is
/// generated once into a kept folder; the service runs as its own process over a fresh database; a small cohort of
/// another seed is imported first (JIT, schema compilation); then all the cohort's files go up as one NDJSON body, as
/// <c>fhircase import</c> sends them, and the status is polled to the manifest. Reports resources/s over the whole wall
/// time (upload, spool, judging, commits), the upload alone, and the service's resident set size (sampled peak and
/// VmHWM).
/// </summary>
public static class ImportBench
{
    /// <summary>
    /// Patients of the warm-up import (seed 2) unless <c>--warm-up N</c> says otherwise. 20 patients (587 resources) start
    /// the JIT but leave most hot code below tier 1: a 2,000-patient import then spends about 8 CPU seconds (22 % of the
    /// service's CPU for its first two minutes at load 20-30) in the tiered compiler. <c>--warm-up 500</c> measures
    /// closer to a long import's steady state.
    /// </summary>
    private const int WarmUpPatients = 20;

    /// <summary>
    /// <c>import [sqlite|postgres|both] [patients ...] [--no-validation] [--keep-cohorts] [--rerun] [--search] [--api path] [--service-env "K=V;K=V"] [--warm-up N]</c>:
    /// each population on a fresh database of each backend; <c>--rerun</c> imports the same cohort a second time (a
    /// registry's re-load); <c>--search</c> then times the search mix over it (<see cref="GeneratedCohortSearchMix"/>);
    /// <c>--service-env</c> adds environment variables to the service process (runtime settings to compare, Import__* options);
    /// <c>--keep</c> leaves the imported database in place (<see cref="KeptName"/>) for <see cref="SearchKeptAsync"/>.
    /// </summary>
    public static async Task RunAsync(string[] args, string defaultApiDll)
    {
        var arguments = BenchArguments.Parse(args, ["--no-validation", "--keep-cohorts", "--rerun", "--search", "--keep"], ["--service-env", "--kept-name", "--warm-up"]);
        var keepDatabase = arguments.Has("--keep");
        var keptPrefix = arguments.Option("--kept-name") ?? "import";
        var levels = arguments.Levels;
        var validation = !arguments.Has("--no-validation");
        var apiDll = arguments.ApiDll ?? defaultApiDll;
        var keepCohorts = arguments.Has("--keep-cohorts");
        var rerun = arguments.Has("--rerun");
        var search = arguments.Has("--search");
        var serviceEnvironment = ParseEnvironment(arguments.Option("--service-env"));

        Console.WriteLine($"import bench: {string.Join(", ", levels.Select(n => n.ToString("N0", CultureInfo.InvariantCulture)))} generated patients, " +
                          $"validation {(validation ? "on" : "off")}, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"service: {apiDll}{string.Concat(serviceEnvironment.Select(e => $" {e.Key}={e.Value}"))}");
        Console.WriteLine($"started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineLoad.LoadAverage()}");

        var warmUpPatients = arguments.Option("--warm-up") is { } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"--warm-up: '{text}' is not a number of patients.")
            : WarmUpPatients;
        var warmUp = await CohortAsync(warmUpPatients, seed: 2, keep: true);
        var results = new List<ImportResult>();
        foreach (var patients in levels)
        {
            var cohort = await CohortAsync(patients, seed: 1, keepCohorts);
            try
            {
                if (arguments.RunsSqlite)
                {
                    await using var database = BenchDatabase.Sqlite(keepDatabase, KeptName(patients, keptPrefix));
                    results.AddRange(await MeasureAsync(database, apiDll, cohort, warmUp, validation, serviceEnvironment, rerun, search));
                }
                if (arguments.RunsPostgres)
                {
                    await using var database = await BenchDatabase.PostgresAsync(ScratchSchema.AdminConnectionString, keepDatabase, KeptName(patients, keptPrefix));
                    results.AddRange(await MeasureAsync(database, apiDll, cohort, warmUp, validation, serviceEnvironment, rerun, search));
                }
            }
            finally
            {
                if (!keepCohorts)
                    Directory.Delete(cohort.Directory, recursive: true);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"finished {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineLoad.LoadAverage()}");
        Console.WriteLine("| backend | patients | import | resources | body | validation | upload (202) | wall time | resources/s (wall) | service CPU ms/resource | service wrote | refused | RSS before | peak RSS (sampled) | VmHWM after |");
        Console.WriteLine("|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            Console.WriteLine(r.TableRow());
    }

    /// <summary>The kept database of an <c>import --keep</c> run of <paramref name="patients"/> (a directory, a schema);
    /// <c>--kept-name NAME</c> replaces the "import" prefix (NAME-{patients}), so helpers' kept databases stay apart.</summary>
    private static string KeptName(int patients, string prefix = "import") => $"{prefix}-{patients}";

    /// <summary>
    /// <c>search [sqlite|postgres|both] [patients ...] [--service-env "K=V;K=V"]</c>: the search mix over the database an
    /// earlier <c>import ... --keep</c> left (same cohort size), without importing again: before/after figures of a
    /// search change back to back over the same rows.
    /// </summary>
    public static async Task SearchKeptAsync(string[] args, string defaultApiDll)
    {
        var arguments = BenchArguments.Parse(args, [], ["--service-env", "--kept-name"]);
        var keptPrefix = arguments.Option("--kept-name") ?? "import";
        var apiDll = arguments.ApiDll ?? defaultApiDll;
        var serviceEnvironment = ParseEnvironment(arguments.Option("--service-env"));
        Console.WriteLine($"search bench over kept imports: service {apiDll}, {Environment.ProcessorCount} cores, started {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {MachineLoad.LoadAverage()}");
        foreach (var patients in arguments.Levels)
        {
            var databases = new List<BenchDatabase>();
            if (arguments.RunsSqlite)
                databases.Add(BenchDatabase.Sqlite(keep: true, KeptName(patients, keptPrefix)));
            if (arguments.RunsPostgres)
                databases.Add(await BenchDatabase.PostgresAsync(ScratchSchema.AdminConnectionString, keep: true, KeptName(patients, keptPrefix)));
            foreach (var database in databases)
            {
                await using var kept = database;
                var settings = new Dictionary<string, string>(database.ServiceSettings)
                {
                    ["ASPNETCORE_ENVIRONMENT"] = "Production",
                    ["Startup__LoadExamples"] = "false",
                    ["Authorization__Enabled"] = "false",
                    ["Limits__RateLimit__Enabled"] = "false",
                    ["Logging__LogLevel__Default"] = "Warning",
                };
                foreach (var (name, value) in serviceEnvironment)
                    settings[name] = value;
                await using var service = await ServiceProcess.StartAsync(apiDll, settings, Path.Combine(database.Scratch, "service-search.log"), TimeSpan.FromMinutes(2));
                using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
                using (var read = await client.GetAsync($"/Patient/synthetic-s1-p{patients.ToString("D6", CultureInfo.InvariantCulture)}"))
                    if (read.StatusCode != HttpStatusCode.OK)
                        throw new InvalidOperationException($"The kept {database.Name} database holds no {patients:N0}-patient import (run import {patients} --keep first).");
                Console.WriteLine($"  search mix over the kept {patients:N0}-patient import ({database.Name}, one client, 100 runs each after 10 unmeasured), load average {MachineLoad.LoadAverage()}:");
                foreach (var (label, latency, matches) in await GeneratedCohortSearchMix.RunAsync(client, patients))
                    Console.WriteLine($"    {label,-62} {latency.P50P95}  ({matches:F1} entries)");
                Console.WriteLine($"  load average {MachineLoad.LoadAverage()}");
            }
        }
    }

    /// <summary>A generated cohort on disk: its NDJSON files and how many resources they hold.</summary>
    private sealed record Cohort(int Patients, string Directory, IReadOnlyList<string> Files, long Resources, long Bytes);

    /// <summary>
    /// The cohort of <paramref name="patients"/> for <paramref name="seed"/>, generated unless a complete one is kept from an
    /// earlier run (the generator is deterministic, so a kept cohort is the same bytes).
    /// </summary>
    private static async Task<Cohort> CohortAsync(int patients, int seed, bool keep)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"fhircase-import-bench-cohort-s{seed}-{patients}");
        var complete = Path.Combine(directory, "complete.txt");
        if (!keep && Directory.Exists(directory) && !File.Exists(complete))
            Directory.Delete(directory, recursive: true);
        if (!File.Exists(complete))
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
            var watch = Stopwatch.StartNew();
            var summary = await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(patients, seed), SyntheticOutputFormat.Ndjson, directory);
            await File.WriteAllTextAsync(complete, summary.ResourceCount.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine($"generated {patients:N0} patients (seed {seed}): {summary.ResourceCount:N0} resources in {watch.Elapsed.TotalSeconds:F1} s, {directory}");
        }
        // Patients first, as an EHR would send them (the import does not need it: references are not checked).
        var files = Directory.GetFiles(directory, "*.ndjson")
            .OrderBy(f => Path.GetFileName(f) == "Patient.ndjson" ? 0 : 1).ThenBy(f => f, StringComparer.Ordinal).ToList();
        var resources = long.Parse(await File.ReadAllTextAsync(complete), CultureInfo.InvariantCulture);
        return new Cohort(patients, directory, files, resources, files.Sum(f => new FileInfo(f).Length));
    }

    private static IReadOnlyDictionary<string, string> ParseEnvironment(string? text) =>
        (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length == 2 ? pair[1] : throw new ArgumentException($"--service-env: '{pair[0]}' is not K=V."));

    /// <summary>The import of the cohort into a fresh database and, with <paramref name="rerun"/>, the same import again (a registry's re-load: every line unchanged).</summary>
    private static async Task<IReadOnlyList<ImportResult>> MeasureAsync(BenchDatabase database, string apiDll, Cohort cohort, Cohort warmUp, bool validation,
        IReadOnlyDictionary<string, string> serviceEnvironment, bool rerun, bool search)
    {
        Console.WriteLine($"{database.Name}, {cohort.Patients:N0} patients ({cohort.Resources:N0} resources, {Megabytes(cohort.Bytes):F0} MB of NDJSON):");
        var settings = new Dictionary<string, string>(database.ServiceSettings)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Startup__LoadExamples"] = "false",
            ["Authorization__Enabled"] = "false",
            ["Limits__RateLimit__Enabled"] = "false",
            ["Validation__Enabled"] = validation ? "true" : "false",
            ["Import__PollInterval"] = "00:00:00.200",
            // One body holds the whole cohort, as `fhircase import` sends it; 100,000 patients are more than the 2 GiB default.
            ["Import__MaxBodyBytes"] = (64L << 30).ToString(CultureInfo.InvariantCulture),
            ["Logging__LogLevel__Default"] = "Warning",
            // The job's completion lines, with where its pipeline waited (judging for the commits or the other way).
            ["Logging__LogLevel__FhirCaseService.Api.Import.ImportRunner"] = "Information",
        };
        foreach (var (name, value) in serviceEnvironment)
            settings[name] = value;
        var log = Path.Combine(database.Scratch, $"service-import-{cohort.Patients}.log");
        await using var service = await ServiceProcess.StartAsync(apiDll, settings, log, TimeSpan.FromMinutes(2));
        using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromHours(2) };

        var warm = await ImportAsync(client, warmUp);
        if (warm.Refused > 0 || warm.Accepted != warmUp.Resources)
            throw new InvalidOperationException($"The warm-up import accepted {warm.Accepted} of {warmUp.Resources} resources and refused {warm.Refused} lines.");
        var before = service.ReadMemory();
        Console.WriteLine($"  service pid {service.ProcessId}: RSS {Megabytes(before.Rss):F0} MB after the warm-up import ({warmUp.Resources:N0} resources), load average {MachineLoad.LoadAverage()}");

        var results = new List<ImportResult>();
        foreach (var label in rerun ? new[] { "first", "re-run" } : ["first"])
        {
            var sampler = new RssSampler(service, TimeSpan.FromMilliseconds(100));
            var cpuBefore = service.CpuTime();
            var writtenBefore = service.BytesWritten();
            var run = await ImportAsync(client, cohort);
            run = run with { ServiceCpu = service.CpuTime() - cpuBefore, BytesWritten = service.BytesWritten() - writtenBefore };
            var peak = await sampler.StopAsync();
            var after = service.ReadMemory();
            var result = new ImportResult(database.Name, cohort.Patients, cohort.Resources, cohort.Bytes, validation, label, run, before, peak, after);
            Console.WriteLine($"  {result.Summary()}; load average {MachineLoad.LoadAverage()}");
            foreach (var pipeline in PipelineLines(log).ToList())
                Console.WriteLine($"  service: {pipeline}");
            if (run.Accepted != cohort.Resources)
                Console.WriteLine($"  WARNING: {run.Accepted:N0} resources accepted of {cohort.Resources:N0} generated.");
            results.Add(result);
            before = after;
        }
        if (search)
        {
            Console.WriteLine($"  search mix over the {cohort.Patients:N0} imported patients ({database.Name}, one client, 100 runs each after 10 unmeasured), load average {MachineLoad.LoadAverage()}:");
            foreach (var (label, latency, matches) in await GeneratedCohortSearchMix.RunAsync(client, cohort.Patients))
                Console.WriteLine($"    {label,-62} {latency.P50P95}  ({matches:F1} entries)");
        }
        return results;
    }

    /// <summary>
    /// The last job's lines saying where its pipeline waited and what it cost the collector (services before those lines
    /// were logged have none).
    /// </summary>
    private static IEnumerable<string> PipelineLines(string log)
    {
        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        string? waits = null, collector = null;
        while (reader.ReadLine() is { } line)
            if (line.Contains(" chunks; judging ", StringComparison.Ordinal))
                waits = line.Trim();
            else if (line.Contains(" KB per line); collections ", StringComparison.Ordinal))
                collector = line.Trim();
        foreach (var last in new[] { waits, collector })
        {
            if (last is null)
                continue;
            // The service logs JSON lines in Production: the message alone.
            if (!last.StartsWith('{'))
            {
                yield return last;
                continue;
            }
            using var entry = JsonDocument.Parse(last);
            if (entry.RootElement.TryGetProperty("Message", out var message) && message.GetString() is { } text)
                yield return text;
        }
    }

    /// <summary>POSTs the cohort's files as one NDJSON body and polls the status URL until the manifest arrives.</summary>
    private static async Task<ImportRun> ImportAsync(HttpClient client, Cohort cohort)
    {
        var watch = Stopwatch.StartNew();
        Uri status;
        await using (var body = new ConcatenatedFiles(cohort.Files))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/$import") { Content = new StreamContent(body, 1 << 16) })
        {
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+ndjson");
            request.Headers.Add("Prefer", "respond-async");
            request.Headers.Accept.ParseAdd("application/fhir+json");
            using var response = await client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new InvalidOperationException($"POST /$import answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            status = response.Content.Headers.ContentLocation ?? throw new InvalidOperationException("POST /$import answered 202 without Content-Location.");
        }
        var uploaded = watch.Elapsed;
        while (true)
        {
            using var response = await client.GetAsync(status.PathAndQuery);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var manifest = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                var accepted = manifest.RootElement.GetProperty("output").EnumerateArray().Sum(o => o.GetProperty("count").GetInt64());
                var refused = manifest.RootElement.GetProperty("error").EnumerateArray().Sum(e => e.TryGetProperty("count", out var c) ? c.GetInt64() : 0);
                if (refused > 0)
                    await PrintFirstErrorsAsync(client, manifest.RootElement.GetProperty("error"));
                return new ImportRun(uploaded, watch.Elapsed, accepted, refused, TimeSpan.Zero, 0);
            }
            if (response.StatusCode != HttpStatusCode.Accepted)
                throw new InvalidOperationException($"GET {status} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            // A fixed short poll interval, not Retry-After: the wall time is the import's own to within 250 ms.
            await Task.Delay(250);
        }
    }

    /// <summary>The first refused lines' OperationOutcomes: a cohort the validator now refuses says why on the console.</summary>
    private static async Task PrintFirstErrorsAsync(HttpClient client, JsonElement errors)
    {
        foreach (var error in errors.EnumerateArray().Take(1))
        {
            var text = await client.GetStringAsync(new Uri(error.GetProperty("url").GetString()!).PathAndQuery);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(3))
                Console.WriteLine($"  refused: {(line.Length > 600 ? line[..600] + "..." : line)}");
        }
    }

    private static double Megabytes(long bytes) => bytes / 1024.0 / 1024.0;


    /// <param name="ServiceCpu">CPU time of the service process over the run (PostgreSQL's own is not in it).</param>
    /// <param name="BytesWritten">bytes the service process wrote over the run (spool, SQLite WAL and checkpoints; PostgreSQL's own writes are not in it).</param>
    private sealed record ImportRun(TimeSpan Uploaded, TimeSpan Elapsed, long Accepted, long Refused, TimeSpan ServiceCpu, long BytesWritten);

    private sealed record ImportResult(string Backend, int Patients, long Resources, long Bytes, bool Validation, string Import, ImportRun Run,
        MemoryReading Before, long PeakRss, MemoryReading After)
    {
        private double PerSecond => Run.Accepted / Run.Elapsed.TotalSeconds;

        /// <summary>Service CPU per accepted resource: less sensitive to the other load on the machine than resources/s.</summary>
        private double CpuMsPerResource => Run.ServiceCpu.TotalMilliseconds / Math.Max(1, Run.Accepted);

        public string Summary() =>
            $"{Backend} {Patients:N0} patients, {Import} import: {Run.Accepted:N0} resources accepted, {Run.Refused:N0} lines refused; upload {Run.Uploaded.TotalSeconds:F1} s, " +
            $"done after {Run.Elapsed.TotalSeconds:F1} s = {PerSecond:F0} resources/s; service CPU {Run.ServiceCpu.TotalSeconds:F1} s = {CpuMsPerResource:F3} ms/resource; service wrote {Megabytes(Run.BytesWritten):F0} MB; server RSS {Megabytes(Before.Rss):F0} MB before, peak {Megabytes(PeakRss):F0} MB, VmHWM {Megabytes(After.PeakRss):F0} MB";

        public string TableRow() =>
            $"| {Backend} | {Patients:N0} | {Import} | {Run.Accepted:N0} | {Megabytes(Bytes):F0} MB | {(Validation ? "on" : "off")} | {Run.Uploaded.TotalSeconds:F1} s | {Run.Elapsed.TotalSeconds:F1} s | " +
            $"{PerSecond:F0} | {CpuMsPerResource:F3} | {Megabytes(Run.BytesWritten):F0} MB | {Run.Refused:N0} | {Megabytes(Before.Rss):F0} MB | {Megabytes(PeakRss):F0} MB | {Megabytes(After.PeakRss):F0} MB |";
    }
}

/// <summary>Several files read one after another as one stream: the request body without a concatenated copy on disk.</summary>
internal sealed class ConcatenatedFiles(IReadOnlyList<string> paths) : Stream
{
    private int _next;
    private FileStream? _current;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_current is null)
            {
                if (_next == paths.Count)
                    return 0;
                _current = new FileStream(paths[_next++], FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            }
            var read = await _current.ReadAsync(buffer, cancellationToken);
            if (read > 0)
                return read;
            await _current.DisposeAsync();
            _current = null;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _current?.Dispose();
        base.Dispose(disposing);
    }
}
