using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;

namespace FhirCaseService.Api.Audit;

/// <summary>
/// Records one AuditEvent per request once it is answered: every endpoint that is not public, the token endpoint,
/// and URLs no endpoint serves. It runs before authorization, so refused requests (401, 403) are recorded too, and
/// after error handling has been set up, so an exception is recorded with the status it will be answered with.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditWriter writer, IFhirAccess access, TimeProvider time)
{
    /// <summary>nginx's code for "the client closed the connection": no HTTP answer was given, and the client caused it.</summary>
    private const int ClientClosedRequest = 499;

    private static readonly string[] UnmarkedPublicPrefixes = ["/health", "/openapi"];

    public async Task InvokeAsync(HttpContext context)
    {
        var scope = AuditScope.Begin();
        int? failedStatus = null;
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            failedStatus = FhirExceptionTable.TryMap(e, out var status, out _) ? status
                : context.RequestAborted.IsCancellationRequested ? ClientClosedRequest
                : StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            AuditScope.End();
            if (IsAudited(context))
                await writer.EnqueueAsync(AuditEventFactory.Create(Describe(context, scope, failedStatus), time.GetUtcNow()));
        }
    }

    private static bool IsAudited(HttpContext context)
    {
        if (AuditInteraction.Classify(context.Request.Method, context.Request.Path.Value ?? "/", null).Type == AuditInteraction.AuthenticationType)
            return true;
        var endpoint = context.GetEndpoint();
        // Health probes and the OpenAPI document are mapped without a marker (in Program.cs) but are public and touch no
        // data; an orchestrator's probe every few seconds would bury the trail.
        if (endpoint is not null && UnmarkedPublicPrefixes.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
            return false;
        // No endpoint (an unknown URL) or no access metadata (refused by authorization) is audited like any protected one.
        return endpoint?.Metadata.GetMetadata<FhirAccessRequirement>() is not { Anonymous: true };
    }

    private AuditedRequest Describe(HttpContext context, AuditScope scope, int? failedStatus)
    {
        var request = context.Request;
        var response = context.Response;
        var interaction = AuditInteraction.Classify(request.Method, request.Path.Value ?? "/", scope.BundleKind);
        return new AuditedRequest(
            request.Method,
            request.Path.Value ?? "/",
            request.QueryString.Value ?? "",
            failedStatus ?? response.StatusCode,
            scope.ClientId ?? ClientIdOf(context),
            context.Connection.RemoteIpAddress?.ToString(),
            response.Headers.Location.FirstOrDefault(),
            response.Headers.ETag.FirstOrDefault(),
            interaction,
            scope.TouchedEntities);
    }

    private string? ClientIdOf(HttpContext context)
    {
        try
        {
            return access.ClientId(context);
        }
        catch (InvalidOperationException)
        {
            // A request refused before its client was known (no or bad token) has no client id to record.
            return null;
        }
    }
}
