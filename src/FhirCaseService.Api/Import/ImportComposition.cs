using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Rest;
using FhirCaseService.Conformance;
using FhirCaseService.Storage;
using FhirCaseService.Validation;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Import;

/// <summary>Bulk NDJSON $import: kick-off, status, error file and cancel endpoints, and the background runner.</summary>
public static class ImportComposition
{
    public static WebApplicationBuilder AddFhirCaseImport(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ImportOptions>, ImportOptionsCheck>();
        services.AddSingleton(provider => new ImportSpool(provider.GetRequiredService<IOptions<ImportOptions>>().Value
            .ResolveSpoolDirectory(provider.GetRequiredService<IOptions<StorageOptions>>().Value)));
        services.AddSingleton(provider => new ImportLineProcessor(
            provider.GetRequiredService<IResourceValidator>(),
            provider.GetRequiredService<IResourceStore>(),
            provider.GetRequiredService<IOptions<WriteValidationOptions>>().Value,
            provider.GetRequiredService<IOptions<LimitsOptions>>().Value,
            provider.GetService<ConformanceContext>()));
        services.AddSingleton<ImportAudit>();
        services.AddSingleton<ImportRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<ImportRunner>());
        return builder;
    }

    /// <summary>The endpoints, and the operation in the CapabilityStatement.</summary>
    public static IEndpointRouteBuilder MapBulkImport(this IEndpointRouteBuilder app)
    {
        app.MapImportEndpoints();
        app.ServiceProvider.GetRequiredService<ServerCapabilities>().AddOperation(new OperationCapability("import", ImportEndpoints.Definition));
        return app;
    }
}
