using FhirCaseService.Api.App;
using FhirCaseService.Api.Audit;
using FhirCaseService.Api.Conformance;
using FhirCaseService.Api.Export;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Import;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.OpenApi;
using FhirCaseService.Api.Operations;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Security;
using FhirCaseService.Api.Startup;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton<ServerCapabilities>();
builder.Services.AddSingleton<FhirCaseService.Api.App.CohortSummaryCache>();
builder.Services.AddFhirCaseRest();
builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [StoreHealthCheck.ReadyTag]);
builder.Services.AddOpenApi();
builder.Services.AddFhirCaseApiDocumentation();
builder.AddFhirCaseSecurity();
builder.AddFhirCaseAudit();
builder.AddFhirCaseLimits();
builder.AddFhirCaseHttpEdge();
builder.AddFhirCaseExport();
builder.AddFhirCaseImport();

var app = builder.Build();

// Order matters: responses are compressed and their URLs built on the configured base, errors included; errors become
// OperationOutcomes; a stopping service refuses new requests and cancels late ones; the audit records the final outcome
// of every request, so it wraps the limits and authorization that may refuse it; limits and headers apply to every
// request, and to the decompressed body; a 406 is answered before any data is touched; rate limiting partitions by the
// client that authorization identified.
app.UseFhirRequestLogging();
app.UseFhirCaseResponseCompressionAndBaseUrl();
app.UseFhirErrorHandling();
app.UseFhirCaseGracefulShutdown();
app.UseFhirCaseAudit();
app.UseFhirCaseRequestLimits();
app.UseFhirCaseRequestDecodingAndNegotiation();
app.UseFhirCaseAuthorization();
app.UseFhirCaseRateLimiting();

app.MapOpenApi();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(StoreHealthCheck.ReadyTag) });
app.MapMetadata();
app.MapSmartEndpoints();
app.MapConformanceResources();
app.MapResourceInteractions();
app.MapHistory();
app.MapBundles();
app.MapValidate();
app.MapSearch();
app.MapPatientEverything();
app.MapCaseSeriesOperations();
app.MapOperationDefinitions();
app.MapBulkExport();
app.MapBulkImport();
app.MapAuditEvents();
app.MapApiReference();
app.MapCaseSeriesPages();

app.Run();

/// <summary>Entry point type, visible to tests that host the service.</summary>
public partial class Program;
