using FhirCaseService.Api.Http;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Security;

/// <summary>
/// Authorization on: what the request's token (checked by <see cref="AuthorizationMiddleware"/>) grants. A request
/// without an authenticated client (a public endpoint) is allowed nothing.
/// </summary>
public sealed class ScopeAccess : IFhirAccess
{
    public bool Enabled => true;

    public bool Allows(HttpContext context, string resourceType, ScopePermissions permissions) =>
        context.Features.Get<ClientPrincipal>() is { } client && client.Scopes.Allows(resourceType, permissions);

    public void Demand(HttpContext context, string resourceType, ScopePermissions permissions)
    {
        if (Allows(context, resourceType, permissions))
            return;
        throw InsufficientScope(context, resourceType, permissions);
    }

    public string ClientId(HttpContext context) => context.Features.Get<ClientPrincipal>()?.ClientId ?? OpenAccess.AnonymousClient;

    /// <summary>
    /// The 403 for a missing scope, naming the v2 scope that would do. The WWW-Authenticate header is added as the
    /// response starts, because the error handling that writes the OperationOutcome clears the headers set before it.
    /// </summary>
    public static FhirRequestException InsufficientScope(HttpContext context, string resourceType, ScopePermissions permissions)
    {
        var needed = SmartScope.V2Text(resourceType, permissions);
        context.Response.OnStarting(() =>
        {
            if (context.Response.StatusCode == StatusCodes.Status403Forbidden)
                context.Response.Headers.WWWAuthenticate = BearerChallenge.InsufficientScope(needed);
            return System.Threading.Tasks.Task.CompletedTask;
        });
        var who = context.Features.Get<ClientPrincipal>() is { } client ? $"Client {client.ClientId}'s token" : "An anonymous request";
        return FhirRequestException.Of(StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Forbidden,
            $"{who} does not grant {Describe(permissions)} on {resourceType}: it needs the scope {needed} (or a broader one, e.g. SMART v1 system/{resourceType}.read or .write).");
    }

    private static string Describe(ScopePermissions permissions) => string.Join(" and ", new[]
    {
        (ScopePermissions.Create, "create"), (ScopePermissions.Read, "read"), (ScopePermissions.Update, "update"),
        (ScopePermissions.Delete, "delete"), (ScopePermissions.Search, "search"),
    }.Where(p => permissions.HasFlag(p.Item1)).Select(p => p.Item2));
}

/// <summary>The RFC 6750 WWW-Authenticate values the service answers with.</summary>
public static class BearerChallenge
{
    public const string Realm = "fhircase";

    public static string Missing() => $"Bearer realm=\"{Realm}\"";

    public static string InvalidToken(string description) =>
        $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{Quoted(description)}\"";

    public static string InsufficientScope(string scope) =>
        $"Bearer realm=\"{Realm}\", error=\"insufficient_scope\", scope=\"{Quoted(scope)}\"";

    /// <summary>A quoted-string may not hold '"' or '\' unescaped, nor control characters.</summary>
    private static string Quoted(string text) =>
        new([.. text.Where(c => c >= ' ' && c != '"' && c != '\\' && c < 127)]);
}
