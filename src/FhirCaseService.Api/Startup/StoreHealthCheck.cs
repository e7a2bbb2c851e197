using FhirCaseService.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FhirCaseService.Api.Startup;

/// <summary>Readiness: the service can serve only while its store answers (a PostgreSQL restart, a locked SQLite file).</summary>
public sealed class StoreHealthCheck(IResourceStore store) : IHealthCheck
{
    public const string ReadyTag = "ready";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.CurrentChangeAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy("The resource store does not answer.", e);
        }
    }
}
