using System.Globalization;
using System.Threading.RateLimiting;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.RateLimiting;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// One token bucket per client (<see cref="RateLimitOptions"/>): the authenticated client id when authorization is on,
/// the remote address when it is off. A refusal is a 429 with Retry-After and an OperationOutcome (code throttled).
/// </summary>
public static class ClientRateLimiting
{
    /// <summary>Probes of a load balancer or orchestrator are not a client's traffic and must never be throttled.</summary>
    private static readonly PathString HealthPaths = "/health";

    public static void Configure(RateLimiterOptions options, RateLimitOptions rate)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => Partition(context, rate));
        options.OnRejected = (rejection, _) => RejectAsync(rejection.HttpContext, rejection.Lease);
    }

    private static RateLimitPartition<string> Partition(HttpContext context, RateLimitOptions rate)
    {
        if (context.Request.Path.StartsWithSegments(HealthPaths))
            return RateLimitPartition.GetNoLimiter("health");
        return RateLimitPartition.GetTokenBucketLimiter(ClientKey(context), _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate.Burst,
            TokensPerPeriod = rate.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    /// <summary>
    /// Every caller without a token is "anonymous" (all of them when authorization is off, and callers of the public
    /// endpoints when it is on), so for them the address is what tells clients apart: one must not throttle the others.
    /// </summary>
    private static string ClientKey(HttpContext context)
    {
        var client = context.RequestServices.GetRequiredService<IFhirAccess>().ClientId(context);
        return client == OpenAccess.AnonymousClient
            ? "address:" + context.Connection.RemoteIpAddress
            : "client:" + client;
    }

    private static ValueTask RejectAsync(HttpContext context, RateLimitLease lease)
    {
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Throttled,
            $"This client has sent more requests than this server accepts ({LimitsOptions.Section}:{nameof(LimitsOptions.RateLimit)}); " +
            $"retry after {seconds} s.");
        return new ValueTask(new FhirResult(outcome, StatusCodes.Status429TooManyRequests).ExecuteAsync(context));
    }
}
