namespace FhirCaseService.Api.Limits;

/// <summary>Input limits, rate limiting and security headers.</summary>
public static class LimitsComposition
{
    public static WebApplicationBuilder AddFhirCaseLimits(this WebApplicationBuilder builder) => builder;

    /// <summary>Security headers and request limits that apply before authorization.</summary>
    public static IApplicationBuilder UseFhirCaseRequestLimits(this IApplicationBuilder app) => app;

    /// <summary>Per-client rate limiting: after authorization, so the partition is the authenticated client.</summary>
    public static IApplicationBuilder UseFhirCaseRateLimiting(this IApplicationBuilder app) => app;
}
