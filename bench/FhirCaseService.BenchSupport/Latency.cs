using System.Diagnostics;

namespace FhirCaseService.BenchSupport;

/// <summary>Times of one measured operation in milliseconds, sorted, and their percentiles.</summary>
public sealed class Latency
{
    private readonly double[] _sorted;

    public Latency(IEnumerable<double> milliseconds) => _sorted = milliseconds.Order().ToArray();

    public int Count => _sorted.Length;

    /// <summary>The value below which <paramref name="percent"/>% of the times lie (nearest rank); NaN when nothing was measured.</summary>
    public double Percentile(int percent) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Min(_sorted.Length - 1, _sorted.Length * percent / 100)];

    /// <summary>"p50 … ms  p95 … ms", the bench reports' latency columns.</summary>
    public string P50P95 => $"p50 {Percentile(50),7:F2} ms  p95 {Percentile(95),7:F2} ms";

    /// <summary>
    /// Runs <paramref name="operation"/> <paramref name="warmUp"/> times unmeasured (JIT, caches, connection pool), then
    /// <paramref name="runs"/> times measured one after another.
    /// </summary>
    public static async Task<Latency> MeasureAsync(Func<Task> operation, int runs, int warmUp = 10) =>
        (await MeasureAsync(async () => { await operation(); return 0; }, runs, warmUp)).Latency;

    /// <summary>The same, also returning what each measured run answered (e.g. how many matches a search found).</summary>
    public static async Task<(Latency Latency, IReadOnlyList<T> Results)> MeasureAsync<T>(Func<Task<T>> operation, int runs, int warmUp = 10)
    {
        for (var i = 0; i < warmUp; i++)
            await operation();
        var timings = new double[runs];
        var results = new T[runs];
        for (var i = 0; i < runs; i++)
        {
            var start = Stopwatch.GetTimestamp();
            results[i] = await operation();
            timings[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return (new Latency(timings), results);
    }
}
