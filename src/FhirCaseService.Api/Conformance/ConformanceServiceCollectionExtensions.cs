using FhirCaseService.Conformance;

namespace FhirCaseService.Api.Conformance;

public static class ConformanceServiceCollectionExtensions
{
    /// <summary>Core R4 definitions plus our bundled profiles package, one shared context per process.</summary>
    public static IServiceCollection AddFhirCaseConformance(this IServiceCollection services) =>
        services.AddSingleton(_ => ConformanceContext.CreateDefault());
}
