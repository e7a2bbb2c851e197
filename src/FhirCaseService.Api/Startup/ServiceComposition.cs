using FhirCaseService.Api.Rest;
using FhirCaseService.Storage;
using FhirCaseService.Validation;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Startup;

/// <summary>The service's composition: storage and validation from configuration, the REST machinery over them.</summary>
public static class ServiceComposition
{
    /// <summary>
    /// Storage ("Storage": SQLite under ./data by default, or PostgreSQL), validation on write ("Validation": on, plus
    /// required profiles per type), start-up ("Startup": load the examples into an empty database). Options are checked
    /// at start-up, and the store is opened before the first request.
    /// </summary>
    public static IServiceCollection AddFhirCaseRest(this IServiceCollection services)
    {
        services.AddFhirCaseStorage();
        services.AddOptions<StorageOptions>().BindConfiguration("Storage").ValidateOnStart()
            .Configure<IConfiguration>((options, configuration) => options.SortableTokenParameters = SortableTokenParameters(configuration) ?? options.SortableTokenParameters);
        services.AddFhirCaseValidation();
        services.AddOptions<WriteValidationOptions>().BindConfiguration(WriteValidationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WriteValidationOptions>, WriteValidationOptionsCheck>();
        services.AddOptions<StartupOptions>().BindConfiguration(StartupOptions.Section).ValidateOnStart();
        services.AddSingleton<WriteValidation>();
        services.AddSingleton<WriteMetrics>();
        services.AddSingleton<ReferentialIntegrity>();
        services.AddSingleton<WritePipeline>();
        services.AddSingleton<BundleProcessor>();
        services.AddHostedService<StoreInitializer>();
        return services;
    }

    /// <summary>
    /// "Search:SortableTokenParameters": a list (<c>Search__SortableTokenParameters__0=Observation.status</c>) or one
    /// comma-separated value (<c>Search__SortableTokenParameters=Observation.status,_tag</c>).
    /// </summary>
    private static List<string>? SortableTokenParameters(IConfiguration configuration)
    {
        var section = configuration.GetSection("Search:SortableTokenParameters");
        if (!section.Exists())
            return null;
        var entries = section.Value is { } single ? single.Split(',') : section.GetChildren().Select(c => c.Value ?? "");
        return entries.Select(e => e.Trim()).Where(e => e.Length > 0).ToList();
    }
}
