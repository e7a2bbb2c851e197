using System.Net;
using System.Reflection;

namespace FhirCaseService.Cli.Http;

/// <summary>The HttpClient of the commands that talk to a FHIR server: compressed answers, fresh DNS, fhircase/version as User-Agent.</summary>
public static class CliHttpClient
{
    /// <summary>Long enough for a slow status answer; a streamed body is not bound by it, only its headers.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);

    public static HttpClient Create(HttpMessageHandler? handler = null)
    {
        var http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.All,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        {
            Timeout = RequestTimeout,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd($"fhircase/{Version}");
        return http;
    }

    /// <summary>The tool's version without the source revision suffix.</summary>
    public static string Version { get; } =
        typeof(CliHttpClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";
}
