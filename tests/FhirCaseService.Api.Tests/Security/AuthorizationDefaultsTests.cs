using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>Authorization is on wherever the service runs outside Development, unless switched off explicitly, loudly.</summary>
public sealed class AuthorizationDefaultsTests
{
    [Fact]
    public async System.Threading.Tasks.Task Outside_Development_authorization_is_on_without_any_setting()
    {
        await using var host = new EnvironmentHost("Production", new Dictionary<string, string?>());
        await host.InitializeAsync();

        using var data = await host.Client.GetAsync("/Patient");
        Assert.Equal(HttpStatusCode.Unauthorized, data.StatusCode);
        using var metadata = await host.Client.GetAsync("/metadata");
        Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        Assert.Contains(host.Logs, l => l.Level == LogLevel.Warning && l.Message.Contains("SigningKeyFile is not set", StringComparison.Ordinal));
    }

    [Fact]
    public async System.Threading.Tasks.Task Outside_Development_authorization_off_takes_the_explicit_setting_and_is_logged_as_a_warning()
    {
        await using var host = new EnvironmentHost("Production", new Dictionary<string, string?> { ["Authorization:Enabled"] = "false" });
        await host.InitializeAsync();

        using var data = await host.Client.GetAsync("/Patient");
        Assert.Equal(HttpStatusCode.OK, data.StatusCode);
        Assert.Contains(host.Logs, l => l.Level == LogLevel.Warning && l.Message.Contains("Authorization is OFF", StringComparison.Ordinal));
    }

    [Fact]
    public async System.Threading.Tasks.Task In_Development_authorization_is_off_by_default_and_can_be_turned_on()
    {
        await using (var off = new EnvironmentHost("Development", new Dictionary<string, string?>()))
        {
            await off.InitializeAsync();
            using var data = await off.Client.GetAsync("/Patient");
            Assert.Equal(HttpStatusCode.OK, data.StatusCode);
            Assert.DoesNotContain(off.Logs, l => l.Level == LogLevel.Warning && l.Message.Contains("Authorization", StringComparison.Ordinal));
        }
        await using var on = new EnvironmentHost("Development", new Dictionary<string, string?> { ["Authorization:Enabled"] = "true" });
        await on.InitializeAsync();
        using var refused = await on.Client.GetAsync("/Patient");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_misconfigured_client_stops_the_service_at_start_naming_the_setting()
    {
        await using var host = new EnvironmentHost("Production", new Dictionary<string, string?> { ["Authorization:Clients:ehr:Scopes"] = "system/*.cu" });

        var error = await Assert.ThrowsAnyAsync<Exception>(host.InitializeAsync);
        Assert.Contains("Authorization:Clients:ehr needs exactly one of Jwks, JwksFile and JwksUrl", error.ToString(), StringComparison.Ordinal);
    }

    private sealed record LogEntry(LogLevel Level, string Message);

    /// <summary>The service in a chosen environment, with what it logs kept for the test.</summary>
    private sealed class EnvironmentHost : ServiceHost, IAsyncDisposable
    {
        private readonly LogCapture _capture;

        public EnvironmentHost(string environment, IReadOnlyDictionary<string, string?> settings) : this(environment, settings, new LogCapture())
        {
        }

        private EnvironmentHost(string environment, IReadOnlyDictionary<string, string?> settings, LogCapture capture)
            : base(new SqliteTestDatabase(), settings, environment, builder => builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(capture)))
        {
            _capture = capture;
        }

        public IReadOnlyCollection<LogEntry> Logs => _capture.Entries;

        async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();
    }

    private sealed class LogCapture : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<LogEntry> _entries = new();

        public IReadOnlyCollection<LogEntry> Entries => [.. _entries];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                _entries.Enqueue(new LogEntry(logLevel, formatter(state, exception)));
        }

        public void Dispose()
        {
        }
    }
}
