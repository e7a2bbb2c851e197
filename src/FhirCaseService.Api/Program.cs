using FhirCaseService.Api.Http;
using FhirCaseService.Api.Conformance;
using FhirCaseService.Api.Metadata;
using FhirCaseService.Api.Startup;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton<ServerCapabilities>();
builder.Services.AddFhirCaseConformance();
builder.Services.AddFhirCaseStorageFromConfiguration();
builder.Services.AddHealthChecks();
builder.Services.AddOpenApi();

var app = builder.Build();

app.UseFhirErrorHandling();
app.MapOpenApi();
app.MapHealthChecks("/health/live");
app.MapHealthChecks("/health/ready");
app.MapMetadata();
app.MapConformanceResources();

app.Run();

/// <summary>Entry point type, visible to tests that host the service.</summary>
public partial class Program;
