using System.Diagnostics;
using System.Globalization;
using FhirCaseService.Conformance;
using FhirCaseService.Validation;

namespace FhirCaseService.Bench;

/// <summary>
/// How validation time grows with the size of one input: a transaction Bundle of 1k/10k/100k entries and a Patient
/// with 1k/10k/100k names (built by <see cref="ScalingInputs"/>). Each size is validated after one warm-up on the
/// smallest input (so compilation and JIT are not counted); the ratio column is the CPU time against the previous
/// size, which a linear engine keeps near 10 for 10x the size. CPU time of the process (all threads, GC included) is
/// reported beside wall time because on a shared machine the wall time mostly measures the other work.
/// </summary>
public static class ValidationScaling
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1_000, 10_000, 100_000];
        var writeTo = Environment.GetEnvironmentVariable("FHIRCASE_SCALING_WRITE");
        const string bundlePath = "examples/bundles/aertgeerts-2025-ino-bridge.json";
        const string patientPath = "examples/resources/Patient-example-patient.json";
        if (!File.Exists(bundlePath) || !File.Exists(patientPath))
        {
            error.WriteLine($"bench scaling: {bundlePath} or {patientPath} not found (run from the repository root)");
            return 2;
        }
        var bundleTemplate = await File.ReadAllTextAsync(bundlePath);
        var patientTemplate = await File.ReadAllTextAsync(patientPath);
        var validator = new FhirValidator(ConformanceContext.CreateDefault());
        // FHIRCASE_SCALING_PARALLEL_THRESHOLD=0 validates a Bundle's entries on one thread (default: ValidationOptions').
        var options = Environment.GetEnvironmentVariable("FHIRCASE_SCALING_PARALLEL_THRESHOLD") is { } threshold
            ? new ValidationOptions { ParallelEntryThreshold = int.Parse(threshold, CultureInfo.InvariantCulture) }
            : ValidationOptions.Default;
        await validator.ValidateAsync(ScalingInputs.TransactionBundle(bundleTemplate, 100), ResourceFormat.Json);
        await validator.ValidateAsync(ScalingInputs.PatientWithNames(patientTemplate, 100), ResourceFormat.Json);

        output.WriteLine($"runtime: .NET {Environment.Version}, {Environment.ProcessorCount} cores, load average before: {LoadAverage()}");
        output.WriteLine();
        // GC pause and gen2 counts sit beside CPU: a big Bundle's parsed tree survives every collection, so the collector
        // copies and marks it repeatedly, and that time hides in "CPU s" unless it is shown.
        output.WriteLine("| input | size | KiB | errors | wall s | CPU s | CPU x previous size | GC pause s | gen2 GCs | allocated MiB |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, build) in new (string, Func<int, string>)[]
                 {
                     ("transaction Bundle, entries", n => ScalingInputs.TransactionBundle(bundleTemplate, n)),
                     ("Patient, names", n => ScalingInputs.PatientWithNames(patientTemplate, n)),
                 })
        {
            double? previous = null;
            foreach (var size in sizes)
            {
                var text = build(size);
                if (writeTo is not null)
                {
                    Directory.CreateDirectory(writeTo);
                    await File.WriteAllTextAsync(Path.Combine(writeTo, $"{label.Split(',')[0].Replace(' ', '-')}-{size}.json"), text);
                }
                var process = Process.GetCurrentProcess();
                var cpuBefore = process.TotalProcessorTime;
                var pauseBefore = GC.GetTotalPauseDuration();
                var gen2Before = GC.CollectionCount(2);
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
                var stopwatch = Stopwatch.StartNew();
                var result = await validator.ValidateAsync(text, ResourceFormat.Json, options);
                stopwatch.Stop();
                process.Refresh();
                var cpuSeconds = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
                var seconds = stopwatch.Elapsed.TotalSeconds;
                var pauseSeconds = (GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds;
                var gen2 = GC.CollectionCount(2) - gen2Before;
                var allocatedMiB = (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (1024.0 * 1024);
                foreach (var issue in result.Issues.Where(i => i.Severity <= Hl7.Fhir.Model.OperationOutcome.IssueSeverity.Error).Take(5))
                    error.WriteLine($"  {issue.Rule} {issue.Location.Expression}: {issue.Message}");
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {size:N0} | {text.Length / 1024} | {result.ErrorCount} | {seconds:0.00} | {cpuSeconds:0.00} | {(previous is double p ? $"{cpuSeconds / p:0.0}" : "")} | {pauseSeconds:0.00} | {gen2} | {allocatedMiB:N0} |"));
                previous = cpuSeconds;
            }
        }
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";
}
