using FhirCaseService.Api.Metadata;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Export;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Export;

/// <summary>Bulk Data $export: kick-off, status, file and cancel endpoints and the background runner.</summary>
public static class ExportComposition
{
    /// <summary>
    /// Options ("Export", checked at start-up), the output store the options choose (a directory or the database), and
    /// the runner as a hosted service (also injectable, so a kick-off can wake it).
    /// </summary>
    public static WebApplicationBuilder AddFhirCaseExport(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ExportOptions>().BindConfiguration(ExportOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExportOptions>, ExportOptionsCheck>();
        services.AddSingleton<IExportFiles>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ExportOptions>>().Value;
            return options.Output == ExportOutput.Database
                ? new DatabaseExportFiles(provider.GetRequiredService<IExportJobStore>(), options.DatabaseChunkBytes)
                : new DirectoryExportFiles(options.ResolveOutputDirectory(provider.GetRequiredService<IOptions<StorageOptions>>().Value));
        });
        services.AddSingleton<ExportRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<ExportRunner>());
        return builder;
    }

    /// <summary>The endpoints, and the three export operations in the CapabilityStatement (the IG's own OperationDefinitions).</summary>
    public static IEndpointRouteBuilder MapBulkExport(this IEndpointRouteBuilder app)
    {
        app.MapExportEndpoints();
        var capabilities = app.ServiceProvider.GetRequiredService<ServerCapabilities>();
        capabilities.AddOperation(new OperationCapability("export", ExportEndpoints.SystemExportDefinition));
        capabilities.AddOperation(new OperationCapability("patient-export", ExportEndpoints.PatientExportDefinition));
        capabilities.AddOperation(new OperationCapability("group-export", ExportEndpoints.GroupExportDefinition));
        return app;
    }
}
