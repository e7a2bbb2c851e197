using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Bench;

/// <summary>
/// Validation throughput of our engine against the floor it cannot beat, SDK parsing alone, on the same files.
/// Warm-up first (profile compilation and JIT happen once per process and are reported separately), then timed
/// rounds; one thread, then all cores. Stopwatch rounds rather than a benchmark framework: the question is
/// "how many resources a second", and seconds-long rounds answer it with a few percent of noise.
/// </summary>
public static class ValidationThroughput
{
    private static readonly TimeSpan RoundTime = TimeSpan.FromSeconds(3);

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var folder = args.Length > 0 ? args[0] : "examples/bundles";
        if (!Directory.Exists(folder))
        {
            error.WriteLine($"bench: folder {folder} not found (run from the repository root, or pass a folder of FHIR JSON files)");
            return 2;
        }
        var files = Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path: f, Content: File.ReadAllText(f)))
            .ToList();
        if (files.Count == 0)
        {
            error.WriteLine($"bench: no .json files in {folder}");
            return 2;
        }
        var bytes = files.Sum(f => (long)System.Text.Encoding.UTF8.GetByteCount(f.Content));
        var resources = files.Sum(f => ResourceCount(f.Content));

        var coldStart = Stopwatch.StartNew();
        var validator = new FhirValidator(ConformanceContext.CreateDefault());
        var firstErrors = 0;
        foreach (var file in files)
            firstErrors += (await validator.ValidateAsync(file.Content, ResourceFormat.Json)).ErrorCount;
        coldStart.Stop();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"files: {files.Count} from {folder}, {resources} resources (Bundle entries counted), {bytes / 1024.0:0.0} KiB in all; errors found: {firstErrors}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cold start (context + compile + first validation of every file): {coldStart.Elapsed.TotalMilliseconds:0} ms"));
        output.WriteLine($"runtime: .NET {Environment.Version}, {Environment.ProcessorCount} cores, {(IsOptimized() ? "Release" : "Debug (numbers not meaningful)")}, load average before the rounds: {LoadAverage()}");
        output.WriteLine();
        output.WriteLine("| measure | threads | files/s | resources/s | MB/s | resources per CPU second |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");

        Func<Task> parsePass = () => { foreach (var file in files) FhirSerialization.StrictJson.DeserializeResource(file.Content); return Task.CompletedTask; };
        Func<Task> validatePass = async () => { foreach (var file in files) await validator.ValidateAsync(file.Content, ResourceFormat.Json); };
        var parse = await Measure(parsePass, 1);
        Report(output, "SDK parse only (strict JSON -> POCO)", 1, files.Count, resources, bytes, parse);
        var validate = await Measure(validatePass, 1);
        Report(output, "our validation (parse + validate)", 1, files.Count, resources, bytes, validate);
        // Bytes allocated by one warm pass on this thread (the walk's garbage is what the collector pays for).
        var parseBytes = await AllocatedBy(parsePass);
        var validateBytes = await AllocatedBy(validatePass);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| allocated per resource, one warm pass | 1 | SDK parse {parseBytes / resources:0} B | our validation {validateBytes / resources:0} B | | |"));
        var threads = Environment.ProcessorCount;
        var parallel = Measure(async () => { foreach (var file in files) await validator.ValidateAsync(file.Content, ResourceFormat.Json); }, threads);
        Report(output, "our validation (parse + validate)", threads, files.Count, resources, bytes, await parallel);

        // The write path parses once with the strict parser (InstanceReader.Read) and validates that parse: the engine
        // without the text path's fast read, measured in the same rounds for comparison.
        Func<Task> strictPass = async () => { foreach (var file in files) await validator.ValidateAsync(InstanceReader.Read(file.Content, ResourceFormat.Json)); };
        var best = await AlternatingBest([parsePass, validatePass, strictPass], AlternatingRounds);
        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"best of {AlternatingRounds} alternating rounds, one thread: SDK parse {resources / best[0].TotalSeconds:0} resources/s, our validation {resources / best[1].TotalSeconds:0} resources/s: **{100 * best[0].TotalSeconds / best[1].TotalSeconds:0.0} % of parse throughput**; validation of a strict parse (write path) {resources / best[2].TotalSeconds:0} resources/s ({100 * best[0].TotalSeconds / best[2].TotalSeconds:0.0} %); load average after: {LoadAverage()}"));
        return 0;
    }

    private const int AlternatingRounds = 7;

    /// <summary>The bytes the whole process allocates during one pass (the passes run their awaits on this thread or the pool; other threads are idle).</summary>
    private static async Task<double> AllocatedBy(Func<Task> pass)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await pass();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    /// <summary>
    /// The ratio the speed target is about, made robust to a shared machine: one pass of each measure in turn, and the fastest of each (the pass least disturbed by other work), so both sides see the same conditions.
    /// </summary>
    private static async Task<TimeSpan[]> AlternatingBest(Func<Task>[] passes, int rounds)
    {
        var best = Enumerable.Repeat(TimeSpan.MaxValue, passes.Length).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var p = 0; p < passes.Length; p++)
            {
                var stopwatch = Stopwatch.StartNew();
                await passes[p]();
                best[p] = Min(best[p], stopwatch.Elapsed);
            }
        }
        return best;

        static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }

    /// <summary>Runs one pass over the files repeatedly on <paramref name="threads"/> threads for a fixed time; returns passes and time.</summary>
    private static async Task<(long Passes, TimeSpan Elapsed, TimeSpan Cpu)> Measure(Func<Task> pass, int threads)
    {
        await pass();
        long passes = 0;
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(async () =>
        {
            while (stopwatch.Elapsed < RoundTime)
            {
                await pass();
                Interlocked.Increment(ref passes);
            }
        })));
        var elapsed = stopwatch.Elapsed;
        process.Refresh();
        return (passes, elapsed, process.TotalProcessorTime - cpuBefore);
    }

    /// <summary>
    /// Wall-clock rates, and resources per CPU second of the whole process (GC and JIT threads included): on a
    /// machine shared with other work the wall-clock rate mostly measures the others, the CPU rate much less so.
    /// </summary>
    private static void Report(TextWriter output, string measure, int threads, int files, int resources, long bytes, (long Passes, TimeSpan Elapsed, TimeSpan Cpu) result)
    {
        var seconds = result.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {measure} | {threads} | {result.Passes * files / seconds:0.0} | {result.Passes * resources / seconds:0} | {result.Passes * bytes / seconds / 1_000_000:0.00} | {result.Passes * resources / result.Cpu.TotalSeconds:0} |"));
    }

    /// <summary>A Bundle counts as its entries' resources, anything else as one resource.</summary>
    private static int ResourceCount(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return root.TryGetProperty("resourceType", out var type) && type.GetString() == "Bundle" && root.TryGetProperty("entry", out var entries)
            ? entries.GetArrayLength()
            : 1;
    }

    /// <summary>Other work on the machine skews the numbers; the 1-minute load average says how much (Linux only).</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    private static bool IsOptimized() =>
        !typeof(ValidationThroughput).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .OfType<DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled);
}
