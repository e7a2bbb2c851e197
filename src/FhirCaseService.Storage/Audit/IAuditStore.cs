namespace FhirCaseService.Storage.Audit;

/// <summary>
/// One audit record: the AuditEvent as FHIR JSON (<see cref="Json"/>) plus the columns the trail is searched by.
/// <see cref="Action"/> is the AuditEvent.action code (C/R/U/D/E), <see cref="Subtype"/> the restful interaction or
/// operation name, <see cref="Outcome"/> the AuditEvent.outcome code (0/4/8/12).
/// <see cref="EntityType"/>/<see cref="EntityId"/> are the main entity; <see cref="Entities"/> every entity the event
/// involved (e.g. each entry a transaction wrote), searched like the main one. Entities are written, not read back:
/// the <see cref="Json"/> holds them all.
/// </summary>
public sealed record AuditRecord(
    string EventId,
    DateTimeOffset Recorded,
    string? ClientId,
    string Action,
    string Subtype,
    string? EntityType,
    string? EntityId,
    string Outcome,
    string Json,
    IReadOnlyList<AuditEntityRef>? Entities = null);

/// <summary>A resource (<see cref="Id"/> set) or a resource type searched (<see cref="Id"/> null) an event involved.</summary>
public sealed record AuditEntityRef(string Type, string? Id);

/// <summary>
/// Search over the trail; every criterion optional, ANDed. Newest first. <see cref="RecordedFrom"/> is inclusive,
/// <see cref="RecordedTo"/> exclusive. <see cref="EntityType"/> (with or without <see cref="EntityId"/>) matches any
/// entity of the event. <see cref="BeforeSequence"/> is the cursor of the next page (<see cref="AuditPage.NextBeforeSequence"/>).
/// </summary>
public sealed record AuditQuery(
    DateTimeOffset? RecordedFrom = null,
    DateTimeOffset? RecordedTo = null,
    string? ClientId = null,
    string? Action = null,
    string? Subtype = null,
    string? EntityType = null,
    string? EntityId = null,
    string? Outcome = null,
    int Count = 50,
    long? BeforeSequence = null);

public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, long? NextBeforeSequence);

/// <summary>
/// The append-only audit trail. There is no update or delete here, and the database refuses both (triggers), so
/// nothing reachable through the API can alter a record.
/// </summary>
public interface IAuditStore
{
    /// <summary>Appends records in one transaction (the API batches them).</summary>
    Task AppendAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken = default);

    Task<AuditRecord?> ReadAsync(string eventId, CancellationToken cancellationToken = default);

    Task<AuditPage> SearchAsync(AuditQuery query, CancellationToken cancellationToken = default);
}
