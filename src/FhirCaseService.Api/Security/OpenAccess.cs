namespace FhirCaseService.Api.Security;

/// <summary>Authorization off (Development, or an explicit setting): every client may do everything, as "anonymous".</summary>
public sealed class OpenAccess : IFhirAccess
{
    public const string AnonymousClient = "anonymous";

    public bool Enabled => false;

    public bool Allows(HttpContext context, string resourceType, ScopePermissions permissions) => true;

    public void Demand(HttpContext context, string resourceType, ScopePermissions permissions)
    {
    }

    public string ClientId(HttpContext context) => AnonymousClient;
}
