using System.Diagnostics;

namespace FhirCaseService.Api.Http;

/// <summary>
/// One structured log line per request: method, route template, status, duration, correlation id. The route template
/// (<c>/Patient/{id}</c>) stands in for the path, and the query string is never logged: search values such as an
/// identifier or a birth date are patient data. ASP.NET's own per-request lines, which log full URLs, are turned
/// down to warnings in appsettings.json.
/// </summary>
public static class RequestLogging
{
    public static IApplicationBuilder UseFhirRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("FhirCaseService.Requests");
        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
                logger.LogInformation("{Method} {Route} -> {StatusCode} in {ElapsedMs:0.0} ms ({CorrelationId})",
                    context.Request.Method, route, context.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds, Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier);
            }
        });
        return app;
    }
}
