using FhirCaseService.Api.Rest;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Audit;

/// <summary>What happened to an entity, as AuditEvent.entity.lifecycle (DICOM audit lifecycle codes).</summary>
public enum AuditLifecycle
{
    Creation = 1,
    Amendment = 3,
    Access = 6,
    Export = 10,
    LogicalDeletion = 14,
}

/// <summary>A resource one request touched, reported by the handler that touched it.</summary>
public sealed record AuditedEntity(string ResourceType, string? Id, int? VersionId, AuditLifecycle Lifecycle);

/// <summary>
/// What a request's handlers tell the audit beyond its URL: the resources a transaction or batch wrote, whether a
/// <c>POST /</c> was a transaction or a batch, and who asked for a token. The audit middleware opens one scope per
/// request; it flows to the handlers with the request's async context, so code deep in a handler (e.g.
/// <see cref="BundleProcessor"/>) reports without an HttpContext. Outside a request (start-up imports) it does nothing.
/// </summary>
public sealed class AuditScope
{
    private static readonly AsyncLocal<AuditScope?> CurrentScope = new();
    private readonly Lock _gate = new();
    private readonly List<AuditedEntity> _touched = [];

    private AuditScope()
    {
    }

    internal string? BundleKind { get; private set; }

    internal string? ClientId { get; private set; }

    internal IReadOnlyList<AuditedEntity> TouchedEntities
    {
        get { lock (_gate) return [.. _touched]; }
    }

    internal static AuditScope Begin() => CurrentScope.Value = new AuditScope();

    internal static void End() => CurrentScope.Value = null;

    /// <summary>The request touched <paramref name="resourceType"/>/<paramref name="id"/>.</summary>
    public static void Touch(string resourceType, string? id, int? versionId = null, AuditLifecycle lifecycle = AuditLifecycle.Access)
    {
        if (CurrentScope.Value is { } scope)
            lock (scope._gate) scope._touched.Add(new AuditedEntity(resourceType, id, versionId, lifecycle));
    }

    /// <summary>Reports the resource a Bundle entry wrote, and hands the outcome on (so the call wraps the expression that produced it).</summary>
    public static WriteOutcome Touched(WriteOutcome outcome, Bundle.HTTPVerb? method)
    {
        if (outcome.Stored is { } stored)
            Touch(stored.ResourceType, stored.Id, stored.VersionId, LifecycleOf(outcome, method));
        return outcome;
    }

    /// <summary>A POST that matched an existing resource (ifNoneExist) wrote nothing: an access, not an amendment.</summary>
    private static AuditLifecycle LifecycleOf(WriteOutcome outcome, Bundle.HTTPVerb? method) => outcome switch
    {
        { Stored.IsDeleted: true } => AuditLifecycle.LogicalDeletion,
        { Status: StatusCodes.Status201Created } => AuditLifecycle.Creation,
        _ when method == Bundle.HTTPVerb.POST => AuditLifecycle.Access,
        _ => AuditLifecycle.Amendment,
    };

    /// <summary>Whether <c>POST /</c> carried a "transaction" or a "batch" (the URL cannot tell, and the audit never reads bodies).</summary>
    public static void Describe(string bundleKind)
    {
        if (CurrentScope.Value is { } scope)
            scope.BundleKind = bundleKind;
    }

    /// <summary>The client a request speaks for when no token says so yet (the token endpoint, once it has checked the assertion).</summary>
    public static void IdentifyClient(string clientId)
    {
        if (CurrentScope.Value is { } scope)
            scope.ClientId = clientId;
    }
}
