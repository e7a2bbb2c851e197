using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>Refusing a request over a limit logs nothing of what it carried: bodies and query values may be patient data.</summary>
public sealed class LimitLoggingTests(LimitLoggingTests.LoggedHost host) : IClassFixture<LimitLoggingTests.LoggedHost>
{
    [Fact]
    public async Task Refusals_over_limits_never_log_the_body_or_the_query_values()
    {
        var secret = "Secret" + Guid.NewGuid().ToString("N");
        var statuses = new List<HttpStatusCode>
        {
            await SendAsync(HttpMethod.Put, "/Patient/p1", Patient(secret + new string(' ', SmallLimits.MaxRequestBodyBytes))),
            await SendAsync(HttpMethod.Put, "/Patient/p1", Patient(secret + new string('x', SmallLimits.MaxStringLength))),
            await SendAsync(HttpMethod.Get, $"/Patient?{string.Join("&", Enumerable.Range(0, SmallLimits.MaxSearchParameters + 1).Select(i => $"family={secret}{i}"))}", null),
            await SendAsync(HttpMethod.Get, $"/Patient?family={secret}&_count={SmallLimits.MaxPageSize + 1}", null),
        };

        Assert.Equal([HttpStatusCode.RequestEntityTooLarge, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], statuses);
        var logs = host.Logs;
        Assert.Contains(logs, line => line.Contains("413", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, line => line.Contains(secret, StringComparison.Ordinal));
    }

    private static string Patient(string family) => $$"""{"resourceType":"Patient","id":"p1","name":[{"family":"{{family}}"}]}""";

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = new StringContent(body, Encoding.UTF8, "application/fhir+json");
        using var response = await host.Client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The small-limits service, with what it logs kept in a list.</summary>
    public sealed class LoggedHost : ServiceHost
    {
        private readonly LogCapture _capture;

        public LoggedHost() : this(new LogCapture())
        {
        }

        private LoggedHost(LogCapture capture)
            : base(new SqliteTestDatabase(), new Dictionary<string, string?>(SmallLimits.Settings)
            {
                // The service's own categories down to Debug; ASP.NET Core's stay at the shipped Warning, because its
                // Information lines name full URLs (appsettings.json turns them down for that reason).
                ["Logging:LogLevel:Default"] = "Debug",
            }, "Development", builder => builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(capture)))
        {
            _capture = capture;
        }

        public IReadOnlyCollection<string> Logs => _capture.Lines;
    }

    private sealed class LogCapture : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => [.. _lines];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _lines.Enqueue($"{formatter(state, exception)} {exception}");

        public void Dispose()
        {
        }
    }
}
