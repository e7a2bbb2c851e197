using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FhirCaseService.BenchSupport;
using FhirCaseService.TestSupport;

namespace FhirCaseService.ApiBench;

/// <summary>
/// Transaction ingest over HTTP as an EHR pushes it: one transaction Bundle per patient (the case-series example's
/// patient P1 and everything about it, 19 resources, under fresh ids each time), sent by 1 and by 4 concurrent
/// clients, with validation on and off. Besides resources/s it reports the share of a request's time the write lock
/// was held, from the service's own <c>fhircase.write.lock_share</c> measurements (absent on builds before the write
/// pipeline: then "n/a").
/// </summary>
public static class IngestBench
{
    private const string PatientPrefix = "aertgeerts-2025-ino-bridge-p1";
    private const string MeterName = "FhirCaseService.Api.Writes";

    public static async Task RunAsync(string backend, int transactions)
    {
        var template = PatientEntries();
        Console.WriteLine($"ingest bench: {transactions} transactions of {template.Count} resources per configuration, " +
                          $"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
        if (backend is "sqlite" or "both")
        {
            using var directory = new ScratchDirectory("fhircase-ingest-bench");
            await MatrixAsync("SQLite", new() { ["Storage:Provider"] = "Sqlite", ["Storage:DataDirectory"] = directory.Path }, template, transactions);
        }
        if (backend is "postgres" or "both")
        {
            await using var schema = await ScratchSchema.CreateAsync("ingestbench_");
            await MatrixAsync("PostgreSQL", new()
            {
                ["Storage:Provider"] = "PostgreSql",
                ["Storage:ConnectionString"] = schema.ConnectionString,
            }, template, transactions);
        }
    }

    /// <summary>
    /// One transaction of (about) <c>entries</c> entries each (the patient's entries repeated under fresh ids), with
    /// validation on and off: the time to commit, to see that 10x the entries cost about 10x the time.
    /// </summary>
    public static async Task BigAsync(string backend, IReadOnlyList<int> sizes)
    {
        var template = PatientEntries();
        using var directory = new ScratchDirectory("fhircase-big-bench");
        await using var schema = backend == "postgres" ? await ScratchSchema.CreateAsync("bigbench_") : null;
        Dictionary<string, string?> storage = schema is not null
            ? new() { ["Storage:Provider"] = "PostgreSql", ["Storage:ConnectionString"] = schema.ConnectionString }
            : new() { ["Storage:Provider"] = "Sqlite", ["Storage:DataDirectory"] = directory.Path };
        Console.WriteLine($"big transactions on {backend}, {Environment.ProcessorCount} cores:");
        foreach (var validation in new[] { true, false })
        {
            var settings = new Dictionary<string, string?>(storage)
            {
                ["Validation:Enabled"] = validation ? "true" : "false",
                ["Startup:LoadExamples"] = "false",
                ["Authorization:Enabled"] = "false",
                ["Limits:RateLimit:Enabled"] = "false",
                ["Limits:MaxBundleEntries"] = "200000",
                ["Limits:MaxRequestBodyBytes"] = (1L << 31).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Logging:LogLevel:Default"] = "Warning",
            };
            await using var host = new ApiHost(settings);
            using var client = host.CreateClient();
            client.Timeout = TimeSpan.FromMinutes(30);
            await PostAsync(client, Transaction(template, "warm-" + Guid.NewGuid().ToString("N")[..8]));
            foreach (var size in sizes)
            {
                var run = Guid.NewGuid().ToString("N")[..8];
                var patients = (size + template.Count - 1) / template.Count;
                var bundle = Transactions(template, Enumerable.Range(0, patients).Select(p => $"big-{run}-{p}"));
                using var shares = new LockShares();
                var watch = Stopwatch.StartNew();
                await PostAsync(client, bundle);
                Console.WriteLine($"  validation {(validation ? "on " : "off")}: {patients * template.Count,7} entries committed in {watch.Elapsed.TotalSeconds,7:F2} s, lock held {shares.Describe()}{shares.Stages()}");
            }
        }
    }

    /// <summary>Several patients in one Bundle: each copy also gets fullUrls of its own (the example's references are to urn:uuid fullUrls).</summary>
    private static string Transactions(JsonArray template, IEnumerable<string> prefixes)
    {
        var fullUrls = template.Select(e => e!["fullUrl"]!.GetValue<string>()).ToList();
        var text = template.ToJsonString()[1..^1];
        var entries = string.Join(",", prefixes.Select(prefix =>
        {
            var copy = text.Replace(PatientPrefix, prefix, StringComparison.Ordinal).Replace("\"P1\"", $"\"{prefix}\"", StringComparison.Ordinal);
            foreach (var fullUrl in fullUrls)
                copy = copy.Replace(fullUrl, "urn:uuid:" + Guid.NewGuid(), StringComparison.Ordinal);
            return copy;
        }));
        return $$"""{"resourceType":"Bundle","type":"transaction","entry":[{{entries}}]}""";
    }

    private static async Task MatrixAsync(string name, Dictionary<string, string?> storage, JsonArray template, int transactions)
    {
        Console.WriteLine($"{name}:");
        foreach (var validation in new[] { true, false })
            foreach (var clients in new[] { 1, 4 })
                await MeasureAsync(storage, template, transactions, validation, clients);
    }

    private static async Task MeasureAsync(Dictionary<string, string?> storage, JsonArray template, int transactions, bool validation, int clients)
    {
        var settings = new Dictionary<string, string?>(storage)
        {
            ["Validation:Enabled"] = validation ? "true" : "false",
            ["Startup:LoadExamples"] = "false",
            ["Authorization:Enabled"] = "false",
            ["Limits:RateLimit:Enabled"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Warning",
        };
        await using var host = new ApiHost(settings);
        using var client = host.CreateClient();
        var run = Guid.NewGuid().ToString("N")[..8];
        // Start-up costs (schema compilation, JIT, connection pool) are not the ingest's.
        for (var i = 0; i < 4; i++)
            await PostAsync(client, Transaction(template, $"warm-{run}-{i}"));

        using var shares = new LockShares();
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var next = -1;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < transactions)
            {
                var body = Transaction(template, $"b-{run}-{n}");
                var started = Stopwatch.GetTimestamp();
                await PostAsync(client, body);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }));
        watch.Stop();
        // CPU of the whole process (service and bench client) per resource: on a machine other work shares, a steadier
        // measure of the write path's cost than resources/s.
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds;
        var resources = transactions * template.Count;
        Console.WriteLine($"  validation {(validation ? "on " : "off")}, {clients} client{(clients == 1 ? " " : "s")}: {resources} resources in " +
                          $"{watch.Elapsed.TotalSeconds:F1} s = {resources / watch.Elapsed.TotalSeconds,6:F0} resources/s, " +
                          $"CPU {cpu / resources:F2} ms/resource, request p50 {new Latency(latencies).Percentile(50),6:F1} ms, lock held {shares.Describe()}{shares.Stages()}");
    }

    /// <summary>The example Bundle's entries about patient P1 (the patient first, then its resources).</summary>
    private static JsonArray PatientEntries()
    {
        var bundle = JsonNode.Parse(File.ReadAllText(FindBundle()))!;
        var entries = new JsonArray();
        foreach (var entry in bundle["entry"]!.AsArray())
            if (entry!["resource"]!["id"]!.GetValue<string>().StartsWith(PatientPrefix, StringComparison.Ordinal))
                entries.Add(entry.DeepClone());
        return entries;
    }

    /// <summary>The patient's entries under ids of their own (every id and reference carries the prefix) and a fresh pseudonym.</summary>
    private static string Transaction(JsonArray template, string prefix)
    {
        var entries = template.ToJsonString().Replace(PatientPrefix, prefix, StringComparison.Ordinal).Replace("\"P1\"", $"\"{prefix}\"", StringComparison.Ordinal);
        return $$"""{"resourceType":"Bundle","type":"transaction","entry":{{entries}}}""";
    }

    internal static async Task PostAsync(HttpClient client, string bundle)
    {
        using var content = new StringContent(bundle, Encoding.UTF8, "application/fhir+json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = content };
        request.Headers.Add("Prefer", "return=minimal");
        using var response = await client.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"The transaction answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Listens to the service's per-request write measurements while one configuration runs.</summary>
    private sealed class LockShares : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _shares = [];
        private readonly List<double> _held = [];
        private readonly Dictionary<string, List<double>> _stages = new(StringComparer.Ordinal);

        public LockShares()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MeterName)
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "fhircase.write.stage")
                {
                    var stage = "";
                    foreach (var tag in tags)
                        if (tag.Key == "stage")
                            stage = tag.Value as string ?? "";
                    lock (_stages)
                    {
                        if (!_stages.TryGetValue(stage, out var values))
                            _stages[stage] = values = [];
                        values.Add(value);
                    }
                    return;
                }
                var list = instrument.Name switch
                {
                    "fhircase.write.lock_share" => _shares,
                    "fhircase.write.lock_held" => _held,
                    _ => null,
                };
                if (list is not null)
                    lock (list)
                        list.Add(value);
            });
            _listener.Start();
        }

        public string Describe() => _shares.Count == 0
            ? "n/a (not instrumented)"
            : $"p50 {new Latency(_held).Percentile(50):F1} ms, max {_held.Max():F1} ms; share of request p50 {new Latency(_shares).Percentile(50):P0}, max {_shares.Max():P0}";

        /// <summary>Mean milliseconds per request of each stage the service reports (parse, validate, prepare, lock).</summary>
        public string Stages()
        {
            lock (_stages)
                return _stages.Count == 0 ? "" : "; mean ms per request: " + string.Join(", ", _stages.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value.Average():F1}"));
        }

        public void Dispose() => _listener.Dispose();
    }

    private static string FindBundle() => RepositoryRoot.Combine("examples", "bundles", "aertgeerts-2025-ino-bridge.json");
}
