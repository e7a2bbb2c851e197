using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>A request the fake server received, as the test needs to see it.</summary>
internal sealed record RecordedRequest(string Method, string Path, IQueryCollection Query, string? Authorization, string? Accept, string? Prefer, DateTimeOffset At);

/// <summary>
/// A small HTTP server on a real Kestrel socket whose every answer the test scripts: for what the real service cannot
/// be made to do on cue (Retry-After, 429, a failing job, a connection dropped mid-file, a token endpoint that checks
/// the assertion). Records every request it receives.
/// </summary>
internal sealed class FakeFhirServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeFhirServer(WebApplication app, Uri root)
    {
        _app = app;
        Root = root;
    }

    /// <summary>http://127.0.0.1:port (no trailing slash).</summary>
    public Uri Root { get; }

    /// <summary>The FHIR base the CLI is pointed at.</summary>
    public string Base => Root.AbsoluteUri + "fhir";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public IReadOnlyList<RecordedRequest> RequestsTo(string path) => Requests.Where(r => r.Path == path).ToList();

    public static async Task<FakeFhirServer> StartAsync(Func<HttpContext, FakeFhirServer, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeFhirServer? server = null;
        app.Run(async context =>
        {
            var request = context.Request;
            server!.Requests.Enqueue(new RecordedRequest(
                request.Method, request.Path.Value ?? "", request.Query,
                request.Headers.Authorization.FirstOrDefault(), request.Headers.Accept.FirstOrDefault(),
                request.Headers["Prefer"].FirstOrDefault(), DateTimeOffset.UtcNow));
            await handler(context, server);
        });
        await app.StartAsync();
        var address = app.Urls.First();
        server = new FakeFhirServer(app, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static Task OutcomeAsync(HttpContext context, int status, string severity, string code, string diagnostics)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/fhir+json";
        return context.Response.WriteAsync(OutcomeJson(severity, code, diagnostics));
    }

    public static string OutcomeJson(string severity, string code, string diagnostics) => JsonSerializer.Serialize(new
    {
        resourceType = "OperationOutcome",
        issue = new[] { new { severity, code, diagnostics } },
    });

    public static Task JsonAsync(HttpContext context, object body, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public static async Task TextAsync(HttpContext context, string body, string contentType = "application/fhir+ndjson")
    {
        context.Response.ContentType = contentType;
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes);
    }
}
