using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace FhirCaseService.Api.Tests;

/// <summary>
/// The real service on a real Kestrel socket (127.0.0.1, a free port), shared by the tests of a class.
/// Tests talk to it with a plain HttpClient, as an EHR or registry would.
/// </summary>
public sealed class ServiceHost : IDisposable
{
    private readonly WebApplicationFactory<Program> _factory;

    public ServiceHost()
    {
        _factory = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(builder => builder.UseEnvironment("Development"));
        _factory.UseKestrel(0);
        _factory.StartServer();
        Client = _factory.CreateClient();
    }

    public HttpClient Client { get; }

    public Uri BaseAddress => Client.BaseAddress!;

    public void Dispose()
    {
        Client.Dispose();
        _factory.Dispose();
    }
}
