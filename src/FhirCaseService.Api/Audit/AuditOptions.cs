namespace FhirCaseService.Api.Audit;

/// <summary>The audit trail's settings, bound from the "Audit" section.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>Record an AuditEvent per request. Off only for throwaway deployments: the trail is the proof of who saw what.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long the writer gathers events before appending them as one batch (one database transaction).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The most events appended in one transaction.</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>
    /// Events waiting to be written. When full, requests wait for room (backpressure) rather than lose an event; a full
    /// queue means the database cannot keep up.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;

    public bool IsValid => FlushInterval > TimeSpan.Zero && BatchSize > 0 && QueueCapacity >= BatchSize;
}
