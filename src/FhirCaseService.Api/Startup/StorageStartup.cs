using FhirCaseService.Storage;

namespace FhirCaseService.Api.Startup;

public static class StorageStartup
{
    public const string Section = "Storage";

    /// <summary>The store the "Storage" section selects (SQLite under ./data by default, or PostgreSQL).</summary>
    public static IServiceCollection AddFhirCaseStorageFromConfiguration(this IServiceCollection services)
    {
        services.AddFhirCaseStorage();
        services.AddOptions<StorageOptions>().BindConfiguration(Section).ValidateOnStart();
        return services;
    }
}
