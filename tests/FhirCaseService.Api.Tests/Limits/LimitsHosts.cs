using FhirCaseService.Api.Tests.Security;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>
/// The service with small limits, so each test can send a body or query just under and just over one. Validation is
/// off: the limits are checked before validation, and "accepted" here means the limit let the request through.
/// </summary>
public static class SmallLimits
{
    public const int MaxRequestBodyBytes = 4096;
    public const int MaxBundleEntries = 5;
    public const int MaxJsonDepth = 11;
    public const int MaxStringLength = 100;
    public const int MaxSearchParameters = 5;
    public const int MaxPageSize = 50;
    public const int MaxUrlBytes = 4096;

    public static IReadOnlyDictionary<string, string?> Settings { get; } = new Dictionary<string, string?>
    {
        ["Validation:Enabled"] = "false",
        ["Limits:MaxRequestBodyBytes"] = MaxRequestBodyBytes.ToString(),
        ["Limits:MaxBundleEntries"] = MaxBundleEntries.ToString(),
        ["Limits:MaxJsonDepth"] = MaxJsonDepth.ToString(),
        ["Limits:MaxStringLength"] = MaxStringLength.ToString(),
        ["Limits:MaxSearchParameters"] = MaxSearchParameters.ToString(),
        ["Storage:MaxPageSize"] = MaxPageSize.ToString(),
        ["Limits:MaxUrlBytes"] = MaxUrlBytes.ToString(),
        // Small enough to trip within a test if rate limiting were on: it must stay off in Development unless enabled.
        ["Limits:RateLimit:Burst"] = "2",
        ["Limits:RateLimit:PermitsPerSecond"] = "1",
    };
}

public sealed class SmallLimitsSqliteHost() : ServiceHost(new SqliteTestDatabase(), SmallLimits.Settings);

public sealed class SmallLimitsPostgresHost() : ServiceHost(new PostgresTestDatabase(), SmallLimits.Settings);

/// <summary>Rate limiting on (as outside Development), three requests of burst and one a second after that.</summary>
public sealed class RateLimitedHost() : ServiceHost(new SqliteTestDatabase(), new Dictionary<string, string?>
{
    ["Limits:RateLimit:Enabled"] = "true",
    ["Limits:RateLimit:Burst"] = RateLimitedHost.Burst.ToString(),
    ["Limits:RateLimit:PermitsPerSecond"] = "1",
})
{
    public const int Burst = 3;
}

/// <summary>Rate limiting and authorization on: the bucket is per client id.</summary>
public sealed class RateLimitedSecuredHost() : SecuredServiceHost(new SqliteTestDatabase(), "Development", new Dictionary<string, string?>
{
    ["Authorization:Enabled"] = "true",
    ["Limits:RateLimit:Enabled"] = "true",
    ["Limits:RateLimit:Burst"] = RateLimitedHost.Burst.ToString(),
    ["Limits:RateLimit:PermitsPerSecond"] = "1",
});
