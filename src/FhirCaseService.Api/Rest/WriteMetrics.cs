using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// How long each write held the write lock, alone and as a share of its request's time (from the handler's start,
/// body reading and validation included): the pipeline's promise that nothing slow runs under the lock, measured.
/// Meter <c>FhirCaseService.Api.Writes</c>, for dotnet-counters and the API bench.
/// </summary>
public sealed class WriteMetrics : IDisposable
{
    public const string MeterName = "FhirCaseService.Api.Writes";
    private const string StartKey = "fhircase.write.start";

    private readonly Meter _meter = new(MeterName);
    private readonly Histogram<double> _lockHeld;
    private readonly Histogram<double> _lockShare;
    private readonly Histogram<double> _stage;

    public WriteMetrics()
    {
        _lockHeld = _meter.CreateHistogram<double>("fhircase.write.lock_held", "ms", "Time a write request held the write lock (its SQL and commit).");
        _lockShare = _meter.CreateHistogram<double>("fhircase.write.lock_share", null, "The write lock's share of a write request's time.");
        _stage = _meter.CreateHistogram<double>("fhircase.write.stage", "ms", "Time of one stage of a write (tag stage: parse, validate, prepare, lock).");
    }

    /// <summary>Where a write's time goes, stage by stage (the profile behind docs/performance.md).</summary>
    public void RecordStage(string stage, TimeSpan elapsed) =>
        _stage.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>Marks the start of a write request (call first thing in the handler).</summary>
    public static void MarkStart(HttpContext context) => context.Items[StartKey] = Stopwatch.GetTimestamp();

    /// <summary>When the current request started (now, for writes without a request: start-up examples).</summary>
    public long StartOf(HttpContext? context) =>
        context?.Items.TryGetValue(StartKey, out var value) == true && value is long started ? started : Stopwatch.GetTimestamp();

    public void Record(long started, TimeSpan held)
    {
        var total = Stopwatch.GetElapsedTime(started);
        _lockHeld.Record(held.TotalMilliseconds);
        RecordStage("lock", held);
        if (total > TimeSpan.Zero)
            _lockShare.Record(held / total);
    }

    public void Dispose() => _meter.Dispose();
}
