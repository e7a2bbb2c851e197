using FhirCaseService.Api.Http;
using FhirCaseService.Api.Search;
using FhirCaseService.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Limits;

/// <summary>Input limits, rate limiting and security headers.</summary>
public static class LimitsComposition
{
    /// <summary>
    /// The "Limits" section, checked at start-up; Kestrel's own body limit set to the same maximum, so whichever
    /// notices an oversized body first, the refusal reads the same; the per-client rate limiter.
    /// </summary>
    public static WebApplicationBuilder AddFhirCaseLimits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LimitsOptions>, LimitsOptionsCheck>();
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>().Configure<IOptions<LimitsOptions>>((kestrel, limits) =>
        {
            kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes;
            // Above the service's own URL limit, so that limit is the one a client meets, with an OperationOutcome.
            kestrel.Limits.MaxRequestLineSize = limits.Value.MaxUrlBytes + LimitsOptions.KestrelLineMargin;
        });
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<LimitsOptions>>((options, limits) =>
            ClientRateLimiting.Configure(options, limits.Value.RateLimit));
        return builder;
    }

    /// <summary>Security headers and request limits that apply before authorization.</summary>
    public static IApplicationBuilder UseFhirCaseRequestLimits(this IApplicationBuilder app)
    {
        var limits = app.ApplicationServices.GetRequiredService<IOptions<LimitsOptions>>().Value;
        var maxPageSize = app.ApplicationServices.GetRequiredService<IOptions<StorageOptions>>().Value.MaxPageSize;
        app.Use(async (context, next) =>
        {
            SecurityHeaders.Apply(context);
            // An endpoint with a maximum of its own (bulk $import streams gigabytes) replaces the general one.
            var own = context.GetEndpoint()?.Metadata.GetMetadata<RequestBodyLimitMetadata>();
            var maxBytes = own?.MaxBytes ?? limits.MaxRequestBodyBytes;
            // Kestrel's limit is per server; this makes any server that can enforce one (and Kestrel, should its own
            // options change) enforce the same maximum while the body is read.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
                bodySize.MaxRequestBodySize = maxBytes;
            if (context.Request.ContentLength > maxBytes)
                throw TooLarge();
            UrlLimits.Check(context, limits.MaxUrlBytes);
            if (context.Request.QueryString.HasValue)
                QueryLimits.Check(SearchRequest.Parse(context.Request.QueryString.Value), limits.MaxSearchParameters, maxPageSize);
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // The server stopped a chunked body at the limit: the same OperationOutcome as a Content-Length refusal.
                throw TooLarge();
            }

            FhirRequestException TooLarge() => own is null ? RequestBodyLimits.TooLarge(maxBytes) : RequestBodyLimits.TooLarge(maxBytes, own.Setting);
        });
        return app;
    }

    /// <summary>
    /// Per-client rate limiting: after authorization, so the partition is the authenticated client. Off by default in
    /// Development (tests and local runs), on elsewhere; <c>Limits:RateLimit:Enabled</c> decides when set.
    /// </summary>
    public static IApplicationBuilder UseFhirCaseRateLimiting(this IApplicationBuilder app)
    {
        var rate = app.ApplicationServices.GetRequiredService<IOptions<LimitsOptions>>().Value.RateLimit;
        var environment = app.ApplicationServices.GetRequiredService<IHostEnvironment>();
        if (rate.Enabled ?? !environment.IsDevelopment())
            app.UseRateLimiter();
        return app;
    }
}

/// <summary>Endpoint metadata: this endpoint's bodies may be as large as <see cref="MaxBytes"/> (held by the setting <see cref="Setting"/>) instead of Limits:MaxRequestBodyBytes.</summary>
public sealed record RequestBodyLimitMetadata(long MaxBytes, string Setting);
