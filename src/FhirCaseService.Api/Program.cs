using FhirCaseService.Api.Http;
using FhirCaseService.Api.Conformance;
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
builder.Services.AddSingleton<IFhirAccess, OpenAccess>();
builder.Services.AddFhirCaseConformance();
builder.Services.AddFhirCaseRest();
builder.Services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [StoreHealthCheck.ReadyTag]);
builder.Services.AddOpenApi();
builder.Services.AddFhirCaseApiDocumentation();

var app = builder.Build();

app.UseFhirRequestLogging();
app.UseFhirErrorHandling();
app.MapOpenApi();
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(StoreHealthCheck.ReadyTag) });
app.MapMetadata();
app.MapConformanceResources();
app.MapResourceInteractions();
app.MapHistory();
app.MapBundles();
app.MapValidate();
app.MapSearch();
app.MapPatientEverything();
app.MapCaseSeriesOperations();
app.MapOperationDefinitions();
app.MapApiReference();

app.Run();

/// <summary>Entry point type, visible to tests that host the service.</summary>
public partial class Program;
