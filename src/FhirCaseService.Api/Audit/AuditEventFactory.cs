using System.Text;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage.Audit;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.WebUtilities;

namespace FhirCaseService.Api.Audit;

/// <summary>What the audit knows of a finished request: never its body, only its method, URL, status and headers.</summary>
internal sealed record AuditedRequest(
    string Method,
    string Path,
    string QueryString,
    int Status,
    string? ClientId,
    string? RemoteAddress,
    string? Location,
    string? ETag,
    AuditInteraction Interaction,
    IReadOnlyList<AuditedEntity> Touched);

public enum JobOutcomeKind
{
    Success,
    PartlyRefused,
    Failed,
}

/// <summary>How a background job ended, for its AuditEvent: the operation, the job, its client, counts as details, the resource types it touched.</summary>
internal sealed record JobOutcome(Coding Type, string Operation, string JobId, string? ClientId, JobOutcomeKind Outcome, string Description,
    IReadOnlyList<KeyValuePair<string, string>> Details, IReadOnlyList<string> Types);

/// <summary>
/// Builds the FHIR R4 AuditEvent of one request and the record the store keeps of it (codes in docs/audit.md).
/// </summary>
internal static class AuditEventFactory
{
    public const string ClientIdSystem = "https://fhircase.example.org/fhir/client-id";
    public const string ObserverName = "FhirCaseService";

    private const string EntityTypeSystem = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    private const string ObjectRoleSystem = "http://terminology.hl7.org/CodeSystem/object-role";
    private const string LifecycleSystem = "http://terminology.hl7.org/CodeSystem/dicom-audit-lifecycle";
    private const string SourceTypeSystem = "http://terminology.hl7.org/CodeSystem/security-source-type";

    public static AuditRecord Create(AuditedRequest request, DateTimeOffset recorded)
    {
        var interaction = request.Interaction;
        var (outcome, outcomeCode) = OutcomeOf(request.Status);
        var (id, version) = Identity(request);
        var auditEvent = new AuditEvent
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Meta = new Meta { LastUpdated = recorded },
            Type = interaction.Type,
            Subtype = [interaction.SubtypeCoding],
            Action = Enum.Parse<AuditEvent.AuditEventAction>(interaction.Action),
            Recorded = recorded,
            Outcome = outcome,
            OutcomeDesc = $"{request.Status} {ReasonPhrases.GetReasonPhrase(request.Status)}".TrimEnd(),
            Agent = [Requestor(request)],
            Source = new AuditEvent.SourceComponent
            {
                Observer = new ResourceReference { Display = ObserverName },
                Type = [new Coding(SourceTypeSystem, "4", "Application Server")],
            },
        };

        if (interaction.ResourceType is { } type && id is not null)
            auditEvent.Entity.Add(Instance(type, id, version, LifecycleOf(interaction.Action)));
        else if (interaction.IsQuery || interaction.ResourceType is not null)
            auditEvent.Entity.Add(Query(request));
        foreach (var touched in request.Touched)
            auditEvent.Entity.Add(Instance(touched.ResourceType, touched.Id, touched.VersionId, touched.Lifecycle));

        return new AuditRecord(
            auditEvent.Id,
            recorded,
            request.ClientId,
            interaction.Action,
            interaction.Subtype,
            interaction.ResourceType,
            id,
            outcomeCode,
            FhirSerialization.ToJson(auditEvent),
            [.. request.Touched.Select(t => new AuditEntityRef(t.ResourceType, t.Id))]);
    }

    /// <summary>
    /// The outcome of a background job a request started (bulk import): recorded when the job ends, under the client
    /// that started it. The job is the entity (object-role Job, its id as name); the details are counts, never content.
    /// </summary>
    public static AuditRecord CreateJobOutcome(JobOutcome job, DateTimeOffset recorded)
    {
        var (outcome, outcomeCode) = job.Outcome switch
        {
            JobOutcomeKind.Success => (AuditEvent.AuditEventOutcome.N0, "0"),
            JobOutcomeKind.PartlyRefused => (AuditEvent.AuditEventOutcome.N4, "4"),
            _ => (AuditEvent.AuditEventOutcome.N8, "8"),
        };
        var entity = new AuditEvent.EntityComponent
        {
            Name = job.JobId,
            Type = new Coding(EntityTypeSystem, "2", "System Object"),
            Role = new Coding(ObjectRoleSystem, "20", "Job"),
            Lifecycle = new Coding(LifecycleSystem, ((int)AuditLifecycle.Creation).ToString(System.Globalization.CultureInfo.InvariantCulture), LifecycleDisplay(AuditLifecycle.Creation)),
            Detail = [.. job.Details.Select(d => new AuditEvent.DetailComponent { Type = d.Key, Value = new FhirString(d.Value) })],
        };
        var auditEvent = new AuditEvent
        {
            Id = Guid.CreateVersion7().ToString("N"),
            Meta = new Meta { LastUpdated = recorded },
            Type = job.Type,
            Subtype = [new Coding(AuditInteraction.OperationNameSystem, job.Operation, job.Operation)],
            Action = AuditEvent.AuditEventAction.E,
            Recorded = recorded,
            Outcome = outcome,
            OutcomeDesc = job.Description,
            Agent = [new AuditEvent.AgentComponent
            {
                Requestor = true,
                Who = job.ClientId is { } client
                    ? new ResourceReference { Identifier = new Identifier(ClientIdSystem, client) }
                    : new ResourceReference { Display = "unidentified client" },
            }],
            Source = new AuditEvent.SourceComponent
            {
                Observer = new ResourceReference { Display = ObserverName },
                Type = [new Coding(SourceTypeSystem, "4", "Application Server")],
            },
            Entity = [entity],
        };
        return new AuditRecord(auditEvent.Id, recorded, job.ClientId, "E", job.Operation, null, null, outcomeCode,
            FhirSerialization.ToJson(auditEvent), [.. job.Types.Select(t => new AuditEntityRef(t, null))]);
    }

    /// <summary>0 for an answer, 4 for a refused request (a 4xx: the client's error), 8 for the server's own failure.</summary>
    private static (AuditEvent.AuditEventOutcome, string) OutcomeOf(int status) => status switch
    {
        < 400 => (AuditEvent.AuditEventOutcome.N0, "0"),
        < 500 => (AuditEvent.AuditEventOutcome.N4, "4"),
        _ => (AuditEvent.AuditEventOutcome.N8, "8"),
    };

    /// <summary>
    /// The instance the request addressed: from the URL, or for a create from the Location the server answered; the
    /// version from the URL (vread) or the answer's ETag.
    /// </summary>
    private static (string? Id, int? Version) Identity(AuditedRequest request)
    {
        var interaction = request.Interaction;
        if (interaction.ResourceType is null)
            return (null, null);
        var id = interaction.Id;
        if (id is null && interaction.Subtype == "create" && request.Status < 300 && request.Location is { } location)
            id = IdFromLocation(location, interaction.ResourceType);
        if (id is null)
            return (null, null);
        return (id, interaction.VersionId ?? (request.Status < 300 ? VersionFromETag(request.ETag) : null));
    }

    /// <summary>".../Type/id/_history/n" (or ".../Type/id") to id.</summary>
    private static string? IdFromLocation(string location, string type)
    {
        var marker = $"/{type}/";
        var start = location.LastIndexOf(marker, StringComparison.Ordinal);
        if (start < 0)
            return null;
        var rest = location[(start + marker.Length)..];
        var end = rest.IndexOf('/', StringComparison.Ordinal);
        return end < 0 ? rest : rest[..end];
    }

    /// <summary>W/"3" to 3.</summary>
    private static int? VersionFromETag(string? etag)
    {
        var digits = etag?.Replace("W/", "", StringComparison.Ordinal).Trim('"');
        return int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) ? version : null;
    }

    private static AuditLifecycle LifecycleOf(string action) => action switch
    {
        "C" => AuditLifecycle.Creation,
        "U" => AuditLifecycle.Amendment,
        "D" => AuditLifecycle.LogicalDeletion,
        _ => AuditLifecycle.Access,
    };

    private static AuditEvent.AgentComponent Requestor(AuditedRequest request)
    {
        var agent = new AuditEvent.AgentComponent
        {
            Requestor = true,
            Who = request.ClientId is { } client
                ? new ResourceReference { Identifier = new Identifier(ClientIdSystem, client) }
                : new ResourceReference { Display = "unidentified client" },
        };
        if (request.RemoteAddress is { } address)
            agent.Network = new AuditEvent.NetworkComponent { Address = address, Type = AuditEvent.AuditEventAgentNetworkType.N2 };
        return agent;
    }

    private static AuditEvent.EntityComponent Instance(string type, string? id, int? version, AuditLifecycle lifecycle) => new()
    {
        What = id is null ? null : new ResourceReference(version is { } v ? $"{type}/{id}/_history/{v}" : $"{type}/{id}"),
        Name = id is null ? type : null,
        Type = new Coding(EntityTypeSystem, "2", "System Object"),
        Role = new Coding(ObjectRoleSystem, "4", "Domain Resource"),
        Lifecycle = new Coding(LifecycleSystem, ((int)lifecycle).ToString(System.Globalization.CultureInfo.InvariantCulture), LifecycleDisplay(lifecycle)),
    };

    /// <summary>A search, history or operation: the query as the client sent it (path and parameters, base64 as R4 wants).</summary>
    private static AuditEvent.EntityComponent Query(AuditedRequest request) => new()
    {
        Name = request.Interaction.ResourceType,
        Type = new Coding(EntityTypeSystem, "2", "System Object"),
        Role = new Coding(ObjectRoleSystem, "24", "Query"),
        Query = Encoding.UTF8.GetBytes(request.Path.TrimStart('/') + request.QueryString),
    };

    private static string LifecycleDisplay(AuditLifecycle lifecycle) => lifecycle switch
    {
        AuditLifecycle.Creation => "Origination / Creation",
        AuditLifecycle.Amendment => "Amendment",
        AuditLifecycle.Export => "Export",
        AuditLifecycle.LogicalDeletion => "Logical deletion",
        _ => "Access / Use",
    };
}
