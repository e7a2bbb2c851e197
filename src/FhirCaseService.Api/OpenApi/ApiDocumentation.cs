using System.Reflection;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Operations;
using FhirCaseService.Api.Security;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace FhirCaseService.Api.OpenApi;

/// <summary>
/// The OpenAPI document's FHIR-specific parts (what the generator cannot know: content negotiation, OperationOutcome
/// errors, the case-series record's JSON Schema) and a browsable API reference that works offline: its script is
/// served by the service itself and it loads no fonts or telemetry from elsewhere.
/// </summary>
public static class ApiDocumentation
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/openapi/v1.json";
    public const string ReferencePath = "/docs";

    /// <summary>The operations whose request body is a case-series record.</summary>
    private static readonly string[] CaseSeriesRecordPaths = ["/$convert-case-series", "/$import-case-series"];

    public static IServiceCollection AddFhirCaseApiDocumentation(this IServiceCollection services) =>
        services.Configure<OpenApiOptions>(DocumentName, options => options.AddDocumentTransformer((document, _, _) =>
        {
            Describe(document);
            CaseSeriesRecordSchema.AddTo(document, CaseSeriesRecordPaths);
            return Task.CompletedTask;
        }));

    /// <summary>The reference page at <see cref="ReferencePath"/> (and the document itself at <see cref="DocumentPath"/>).</summary>
    public static IEndpointRouteBuilder MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapScalarApiReference(ReferencePath, options => options
            .WithTitle("FhirCaseService API reference")
            .WithOpenApiRoutePattern(DocumentPath)
            .DisableDefaultFonts()
            .DisableTelemetry()
            .HideClientButton())
            .AllowPublicAccess();
        return app;
    }

    private static void Describe(OpenApiDocument document)
    {
        var version = typeof(ApiDocumentation).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.1.0";
        document.Info = new OpenApiInfo
        {
            Title = "FhirCaseService FHIR R4 API",
            Version = version,
            Description =
                "FHIR R4 REST API for relapsed pediatric BCP-ALL case-series data.\n\n" +
                $"- Resources are `{FhirFormat.JsonContentType}` by default; `{FhirFormat.XmlContentType}` via `Accept` or `_format=xml`; `_pretty=true` indents.\n" +
                "- Every 4xx/5xx body is an OperationOutcome.\n" +
                "- `GET /metadata` is the CapabilityStatement: interactions, search parameters, operations and supported profiles per type. " +
                "The operations' OperationDefinitions are at `/OperationDefinition/{id}`.\n" +
                $"- A case-series record (the body of `$convert-case-series` and `$import-case-series`) is described by the JSON Schema at `{CaseSeriesEndpoints.SchemaPath}`.\n" +
                "- Search: `GET [type]?...` or `POST [type]/_search`; page with the Bundle's `next`/`previous` links.",
        };
        document.ExternalDocs = new OpenApiExternalDocs
        {
            Description = "JSON Schema of a case-series record",
            Url = new Uri(CaseSeriesEndpoints.SchemaPath, UriKind.Relative),
        };
    }
}
