using FhirCaseService.Conformance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FhirCaseService.Validation;

/// <summary>The composition root of validation, shared by the API and the CLI.</summary>
public static class ValidationServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="ConformanceContext"/> (core R4 + our profiles, unless one is given or already
    /// registered) and one <see cref="FhirValidator"/> over it as <see cref="IResourceValidator"/>. Both are singletons:
    /// compiled profiles live as long as the process.
    /// </summary>
    public static IServiceCollection AddFhirCaseValidation(this IServiceCollection services, ConformanceContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (context is not null)
            services.TryAddSingleton(context);
        else
            services.TryAddSingleton(_ => ConformanceContext.CreateDefault());
        services.TryAddSingleton(provider => new FhirValidator(provider.GetRequiredService<ConformanceContext>()));
        services.TryAddSingleton<IResourceValidator>(provider => provider.GetRequiredService<FhirValidator>());
        return services;
    }
}
