using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Audit;

/// <summary>The audit trail: recording middleware, its background writer, and the read-only AuditEvent endpoints.</summary>
public static class AuditComposition
{
    public static WebApplicationBuilder AddFhirCaseAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section)
            .Validate(o => o.IsValid, "Audit: FlushInterval must be positive, BatchSize at least 1, QueueCapacity at least BatchSize.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<AuditWriter>());
        return builder;
    }

    /// <summary>Records every request that reaches the service's data (or tries to); off only with Audit:Enabled=false.</summary>
    public static IApplicationBuilder UseFhirCaseAudit(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<AuditOptions>>().Value;
        if (!options.Enabled)
        {
            app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuditComposition).FullName!)
                .LogWarning("The audit trail is off (Audit:Enabled=false): accesses to patient data are not recorded");
            return app;
        }
        return app.UseMiddleware<AuditMiddleware>();
    }

    /// <summary>The trail stays searchable when recording is off: what was recorded before is still evidence.</summary>
    public static IEndpointRouteBuilder MapAuditEvents(this IEndpointRouteBuilder app) => app.MapAuditEventEndpoints();
}
