using FhirCaseService.Api.App;
using FhirCaseService.Api.OpenApi;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// Headers that keep browsers from misusing what the service answers: no MIME sniffing, no framing, no referrer, a
/// Content-Security-Policy that allows nothing (the API serves data, not pages), no caching of FHIR content (it may be
/// patient data) and HSTS on HTTPS. The API reference page gets a policy that lets it run from the service itself.
/// </summary>
public static class SecurityHeaders
{
    private const string ApiPolicy = "default-src 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The reference page (Scalar) loads its scripts and the OpenAPI document from this origin, starts itself with an
    /// inline module script and styles its components with inline styles (headless Chromium reports exactly these
    /// two needs under a stricter policy); icons may be data: URLs. Nothing from elsewhere: it must work offline.
    /// </summary>
    private const string ReferencePagePolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

    public static void Apply(HttpContext context) => context.Response.OnStarting(static state =>
    {
        var context = (HttpContext)state;
        var headers = context.Response.Headers;
        var isReferencePage = context.Request.Path.StartsWithSegments(ApiDocumentation.ReferencePath);
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = isReferencePage ? ReferencePagePolicy : AppEndpoints.IsPagePath(context.Request.Path) ? AppEndpoints.ContentSecurityPolicy : ApiPolicy;
        // The reference page's assets may be cached (they carry their own validators); everything else may be patient data.
        if (!isReferencePage)
            headers.CacheControl = "no-store";
        if (context.Request.IsHttps)
            headers.StrictTransportSecurity = "max-age=31536000";
        return Task.CompletedTask;
    }, context);
}
