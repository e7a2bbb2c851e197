using System.Diagnostics.Metrics;

namespace FhirCaseService.Storage;

/// <summary>
/// The store's measurements of its write lock, published on the meter <see cref="MeterName"/> (read them with
/// dotnet-counters, OpenTelemetry or a <see cref="MeterListener"/> in a benchmark). Concurrent transactions are
/// committed in groups (docs/storage.md, "Group commit"): a group holds the write lock from its BEGIN to its COMMIT.
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "FhirCaseService.Storage";

    /// <summary>Histogram, ms: how long one commit group held the write lock (BEGIN to durable COMMIT).</summary>
    public const string GroupLockHeld = "fhircase.storage.group.lock_held";

    /// <summary>
    /// Histogram, ms: the COMMIT statement of one group (the part of <see cref="GroupLockHeld"/> after the SQL: writing
    /// the log and, with durable commits, syncing it; on SQLite also a WAL checkpoint when the commit crosses its size).
    /// </summary>
    public const string GroupCommit = "fhircase.storage.group.commit";

    /// <summary>Histogram: transactions committed together in one group.</summary>
    public const string GroupSize = "fhircase.storage.group.size";

    /// <summary>Histogram, ms: the time one transaction's own work ran under the write lock (its SQL).</summary>
    public const string TransactionLockHeld = "fhircase.storage.transaction.lock_held";

    /// <summary>Histogram, ms: one transaction from the call of TransactionAsync to its answer (queue, work, group commit).</summary>
    public const string TransactionDuration = "fhircase.storage.transaction.duration";

    internal static readonly Meter Meter = new(MeterName);
    internal static readonly Histogram<double> GroupLockHeldMs = Meter.CreateHistogram<double>(GroupLockHeld, "ms");
    internal static readonly Histogram<double> GroupCommitMs = Meter.CreateHistogram<double>(GroupCommit, "ms");
    internal static readonly Histogram<int> GroupSizeCount = Meter.CreateHistogram<int>(GroupSize);
    internal static readonly Histogram<double> TransactionLockHeldMs = Meter.CreateHistogram<double>(TransactionLockHeld, "ms");
    internal static readonly Histogram<double> TransactionDurationMs = Meter.CreateHistogram<double>(TransactionDuration, "ms");
}
