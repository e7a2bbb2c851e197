using FhirCaseService.Api.Http;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Security;

/// <summary>
/// Enforces each endpoint's <see cref="FhirAccessRequirement"/>: public endpoints pass; every other one needs a valid
/// bearer token (401 otherwise) and, for data access, a scope granting the interaction on the endpoint's type (403).
/// An endpoint that declares no requirement is refused (403): forgetting a marker must close a door, not open one.
/// Requests that match no endpoint pass on to the 404 they will get anyway.
/// </summary>
public sealed class AuthorizationMiddleware(AccessTokenValidator validator, ILogger<AuthorizationMiddleware> logger)
{
    /// <summary>Endpoints mapped where no marker can be appended (Program.cs maps them): the OpenAPI document and health probes.</summary>
    private static readonly string[] PublicPathPrefixes = ["/openapi/", "/health/"];

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null)
        {
            await next(context);
            return;
        }
        var requirements = endpoint.Metadata.GetOrderedMetadata<FhirAccessRequirement>();
        if (requirements.Count == 0)
        {
            if (PublicPathPrefixes.Any(p => context.Request.Path.StartsWithSegments(p.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
            {
                await next(context);
                return;
            }
            logger.LogWarning("Refused {Method} {Route}: the endpoint declares no access rule", context.Request.Method, endpoint.DisplayName);
            await WriteAsync(context, StatusCodes.Status403Forbidden, OperationOutcome.IssueType.Forbidden,
                "This endpoint declares no access rule, so it is closed while authorization is on.", challenge: null);
            return;
        }
        if (requirements.All(r => r.Anonymous))
        {
            await next(context);
            return;
        }

        var token = BearerToken(context.Request);
        if (token is null)
        {
            await WriteAsync(context, StatusCodes.Status401Unauthorized, OperationOutcome.IssueType.Login,
                "This endpoint needs an access token: send Authorization: Bearer <token> (see /.well-known/smart-configuration).",
                BearerChallenge.Missing());
            return;
        }
        var check = await validator.ValidateAsync(token, context.Request, context.RequestAborted);
        if (check.Client is not { } client)
        {
            // The reason, not the token: a token is a credential.
            // The route pattern, not the path: paths carry resource ids, which stay out of the logs.
            logger.LogInformation("Refused a bearer token on {Method} {Route}: {Problem}", context.Request.Method, endpoint.DisplayName, check.Problem);
            await WriteAsync(context, StatusCodes.Status401Unauthorized, OperationOutcome.IssueType.Login, check.Problem!,
                BearerChallenge.InvalidToken(check.Problem!));
            return;
        }
        context.Features.Set(client);

        foreach (var requirement in requirements.Where(r => r is { DataAccess: true, Anonymous: false } && r.ResourceType is not (null or SmartScope.Wildcard)))
        {
            if (client.Scopes.Allows(requirement.ResourceType!, requirement.Permissions))
                continue;
            var refusal = ScopeAccess.InsufficientScope(context, requirement.ResourceType!, requirement.Permissions);
            await new FhirResult(refusal.Outcome, refusal.StatusCode).ExecuteAsync(context);
            return;
        }
        await next(context);
    }

    /// <summary>The token of an "Authorization: Bearer" header (the scheme is case-insensitive, RFC 6750).</summary>
    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        var token = header[scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static Task WriteAsync(HttpContext context, int status, OperationOutcome.IssueType code, string message, string? challenge)
    {
        if (challenge is not null)
            context.Response.Headers.WWWAuthenticate = challenge;
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, code, message), status).ExecuteAsync(context);
    }
}
