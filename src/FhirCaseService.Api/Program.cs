using FhirCaseService.Api.Http;
using FhirCaseService.Api.Conformance;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.OpenApi;
using FhirCaseService.Api.Operations;
using FhirCaseService.Api.Rest;
using FhirCaseService.Api.Search;
using FhirCaseService.Api.Startup;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton<ServerCapabilities>();
builder.Services.AddFhirCaseConformance();
builder.Services.AddFhirCaseRest();
builder.Services.AddHealthChecks();
builder.Services.AddOpenApi();
builder.Services.AddFhirCaseApiDocumentation();

var app = builder.Build();

app.UseFhirRequestLogging();
app.UseFhirErrorHandling();
app.MapOpenApi();
app.MapHealthChecks("/health/live");
app.MapHealthChecks("/health/ready");
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
