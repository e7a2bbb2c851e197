using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>The Limits section is checked when the service starts: a limit that would refuse everything stops it there.</summary>
public sealed class LimitsSettingsTests
{
    [Theory]
    [InlineData("Limits:MaxRequestBodyBytes")]
    [InlineData("Limits:MaxBundleEntries")]
    [InlineData("Limits:MaxJsonDepth")]
    [InlineData("Limits:MaxStringLength")]
    [InlineData("Limits:MaxSearchParameters")]
    [InlineData("Limits:MaxUrlBytes")]
    [InlineData("Limits:RateLimit:PermitsPerSecond")]
    [InlineData("Limits:RateLimit:Burst")]
    public async Task A_limit_below_one_stops_the_service_at_start_up_naming_the_setting(string setting)
    {
        var host = new SettingsHost(new Dictionary<string, string?> { [setting] = "0" });
        try
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(host.InitializeAsync);
            Assert.Contains($"{setting} must be at least 1", failure.ToString());
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private sealed class SettingsHost(IReadOnlyDictionary<string, string?> settings) : ServiceHost(new SqliteTestDatabase(), settings);
}
