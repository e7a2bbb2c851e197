extern alias service;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace FhirCaseService.ApiBench;

/// <summary>The real service on a real Kestrel socket (a free port), configured by the bench: what an EHR talks to.</summary>
public sealed class ApiHost : WebApplicationFactory<service::Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public ApiHost(IReadOnlyDictionary<string, string?> settings)
    {
        _settings = settings;
        // The service reads nothing from its content root; without this the factory looks for the project beside the
        // solution file, which only test projects have generated metadata for.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_FHIRCASESERVICE_API", AppContext.BaseDirectory);
        UseKestrel(0);
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.UseEnvironment("Production").ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
}
