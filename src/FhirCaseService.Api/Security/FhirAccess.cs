namespace FhirCaseService.Api.Security;

/// <summary>
/// What an interaction does to data of one resource type, in SMART v2 letters (c r u d s). SMART v1 "read" grants
/// Read|Search and "write" grants Create|Update|Delete.
/// </summary>
[Flags]
public enum ScopePermissions
{
    None = 0,
    Create = 1,
    Read = 2,
    Update = 4,
    Delete = 8,
    Search = 16,
}

/// <summary>
/// Endpoint metadata: what a request to the endpoint needs. <see cref="ResourceType"/> null with <see cref="DataAccess"/>
/// false means "any authenticated client" (e.g. $validate, which touches no stored data); <see cref="Anonymous"/> marks
/// endpoints open to all (metadata, smart-configuration, token endpoint, health, docs). Endpoints without this metadata
/// are refused when authorization is on (secure by default).
/// </summary>
public sealed record FhirAccessRequirement(ScopePermissions Permissions, string? ResourceType, bool DataAccess, bool Anonymous)
{
    public static FhirAccessRequirement Public { get; } = new(ScopePermissions.None, null, false, true);
    public static FhirAccessRequirement AnyClient { get; } = new(ScopePermissions.None, null, false, false);
}

public static class FhirAccessEndpointExtensions
{
    /// <summary>The request needs a scope granting <paramref name="permissions"/> on <paramref name="resourceType"/> ("*" for a system-wide interaction checked per type inside the handler).</summary>
    public static TBuilder RequireFhirAccess<TBuilder>(this TBuilder builder, ScopePermissions permissions, string resourceType)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new FhirAccessRequirement(permissions, resourceType, true, false));

    /// <summary>The request needs a scope granting <paramref name="permissions"/> on each of <paramref name="resourceTypes"/> (e.g. system-level history, which returns every type).</summary>
    public static TBuilder RequireFhirAccessToEach<TBuilder>(this TBuilder builder, ScopePermissions permissions, IEnumerable<string> resourceTypes)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var resourceType in resourceTypes)
            builder.RequireFhirAccess(permissions, resourceType);
        return builder;
    }

    /// <summary>The request needs an authenticated client but no data scope (the handler may check scopes itself via <see cref="IFhirAccess"/>).</summary>
    public static TBuilder RequireClient<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(FhirAccessRequirement.AnyClient);

    /// <summary>Open to everyone, even with authorization on.</summary>
    public static TBuilder AllowPublicAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(FhirAccessRequirement.Public);
}

/// <summary>
/// The scope checks handlers make themselves, where one request touches several types (transaction/batch entries,
/// $export types, $everything). With authorization off every check passes and the client is "anonymous".
/// </summary>
public interface IFhirAccess
{
    /// <summary>Whether authorization is enforced in this process.</summary>
    bool Enabled { get; }

    /// <summary>True when the request's token grants <paramref name="permissions"/> on <paramref name="resourceType"/>.</summary>
    bool Allows(HttpContext context, string resourceType, ScopePermissions permissions);

    /// <summary>Throws a 403 <c>FhirRequestException</c> (OperationOutcome naming the missing scope) unless <see cref="Allows"/>.</summary>
    void Demand(HttpContext context, string resourceType, ScopePermissions permissions);

    /// <summary>The authenticated client's id (token "client_id"/"sub"), or "anonymous" with authorization off.</summary>
    string ClientId(HttpContext context);
}
