using FhirCaseService.Api.Metadata;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Security;

/// <summary>Authorization (SMART Backend Services): services, the enforcing middleware, and the token/discovery endpoints.</summary>
public static class SecurityComposition
{
    /// <summary>
    /// Options from "Authorization" (checked at start), the token machinery (used by the token endpoint whether or not
    /// authorization is enforced), and <see cref="IFhirAccess"/>: <see cref="ScopeAccess"/> when enforced, else
    /// <see cref="OpenAccess"/>. Enforced unless <c>Authorization:Enabled=false</c>, or by default in Development.
    /// </summary>
    public static WebApplicationBuilder AddFhirCaseSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthorizationOptions>().BindConfiguration(AuthorizationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthorizationOptions>, AuthorizationOptionsCheck>();
        services.AddHttpClient();
        services.AddHttpContextAccessor();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AuthorizationUrls>();
        services.AddSingleton(provider => ServiceSigningKey.FromOptions(provider.GetRequiredService<IOptions<AuthorizationOptions>>().Value));
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<AuthorizationOptions>>().Value;
            return new ExternalIssuerKeys(
                options.Jwks is { Length: > 0 } file ? JsonWebKeySource.File(file)
                : options.JwksUrl is { Length: > 0 } url ? JsonWebKeySource.Url(url, provider.GetRequiredService<IHttpClientFactory>(), provider.GetRequiredService<TimeProvider>())
                : null);
        });
        services.AddSingleton<ClientRegistry>();
        services.AddSingleton<AccessTokenValidator>();
        services.AddSingleton<TokenEndpoint>();
        services.AddSingleton<AuthorizationMiddleware>();
        services.AddHostedService<AuthorizationStartupReport>();

        // Decided from the built container, not from builder.Configuration: a test host's settings and environment are
        // applied when the host is built, after this runs.
        services.AddSingleton<IFhirAccess>(provider =>
            provider.GetRequiredService<IOptions<AuthorizationOptions>>().Value.IsEnabledIn(provider.GetRequiredService<IHostEnvironment>())
                ? new ScopeAccess()
                : new OpenAccess());
        return builder;
    }

    /// <summary>Enforces each endpoint's access marker when authorization is on; a no-op when it is off.</summary>
    public static IApplicationBuilder UseFhirCaseAuthorization(this IApplicationBuilder app)
    {
        if (!app.ApplicationServices.GetRequiredService<IFhirAccess>().Enabled)
            return app;
        // No UseRouting here: the host routes at the start of the pipeline, so the endpoint (and its marker) is known
        // to every middleware, the audit's before this one included.
        var middleware = app.ApplicationServices.GetRequiredService<AuthorizationMiddleware>();
        return app.Use((context, next) => middleware.InvokeAsync(context, next));
    }

    /// <summary>The token endpoint, SMART discovery and the signing key; the CapabilityStatement's security section when enforced.</summary>
    public static IEndpointRouteBuilder MapSmartEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapSmartDiscoveryAndToken();
        if (app.ServiceProvider.GetRequiredService<IFhirAccess>().Enabled)
        {
            var options = app.ServiceProvider.GetRequiredService<IOptions<AuthorizationOptions>>().Value;
            app.ServiceProvider.GetRequiredService<ServerCapabilities>().DescribeSecurity(baseUrl =>
                SmartEndpoints.Security((AuthorizationUrls.Configured(options.BaseUrl)?.TrimEnd('/') ?? baseUrl) + AuthorizationUrls.TokenPath));
        }
        return app;
    }
}

/// <summary>Says at start what an operator must know: authorization off outside Development, or a signing key that dies with the process.</summary>
internal sealed class AuthorizationStartupReport(
    IFhirAccess access, IHostEnvironment environment, ServiceSigningKey signingKey, ILogger<AuthorizationStartupReport> logger) : IHostedService
{
    public System.Threading.Tasks.Task StartAsync(CancellationToken cancellationToken)
    {
        if (!access.Enabled && !environment.IsDevelopment())
            logger.LogWarning("Authorization is OFF (Authorization:Enabled=false) in the {Environment} environment: every client may read and write every resource without a token",
                environment.EnvironmentName);
        else if (!access.Enabled)
            logger.LogInformation("Authorization is off in Development; set Authorization:Enabled=true to enforce SMART scopes");
        if (access.Enabled && signingKey.Generated)
            logger.LogWarning("Authorization:SigningKeyFile is not set: access tokens are signed with a key made at start, so they will not survive a restart and other replicas cannot check them");
        return System.Threading.Tasks.Task.CompletedTask;
    }

    public System.Threading.Tasks.Task StopAsync(CancellationToken cancellationToken) => System.Threading.Tasks.Task.CompletedTask;
}
