using System.IO.Compression;
using System.Net;
using FhirCaseService.Api.Export;
using FhirCaseService.Api.OpenApi;
using FhirCaseService.Api.Operations;
using Security = FhirCaseService.Api.Security;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Http;

/// <summary>
/// Where the service meets the network: the URLs it writes (never from the Host header), compressed responses and
/// request bodies (ASP.NET Core's own middleware), content negotiation (406), and a bounded stop.
/// </summary>
public static class HttpEdgeComposition
{
    /// <summary>Paths that do not answer FHIR resources, so `_format` and `Accept` are not FHIR negotiation there.</summary>
    private static readonly string[] NonFhirPaths =
    [
        "/openapi", ApiDocumentation.ReferencePath, "/health", "/app", "/auth", "/.well-known",
        ExportEndpoints.StatusPath, ExportEndpoints.FilePath, Import.ImportEndpoints.StatusPath, Import.ImportEndpoints.FilePath,
        CaseSeriesEndpoints.SchemaPath,
    ];

    public static WebApplicationBuilder AddFhirCaseHttpEdge(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<HttpEdgeOptions>().BindConfiguration(HttpEdgeOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HttpEdgeOptions>, HttpEdgeOptionsCheck>();
        services.AddOptions<HostOptions>().Configure<IOptions<HttpEdgeOptions>>((host, edge) => host.ShutdownTimeout = edge.Value.ShutdownTimeout);
        services.AddSingleton<GracefulShutdown>();
        services.AddResponseCompression(options =>
        {
            // FHIR responses carry no secrets chosen by a third party next to the client's own data, which is what
            // BREACH-style attacks need; the bodies are large and repetitive, so compression is worth it on HTTPS too.
            options.EnableForHttps = true;
            options.Providers.Add<BrotliCompressionProvider>();
            options.Providers.Add<GzipCompressionProvider>();
            options.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(
                [FhirFormat.JsonContentType, FhirFormat.XmlContentType, ExportEndpoints.NdjsonContentType, "application/x-ndjson"]);
        });
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.AddRequestDecompression();
        return builder;
    }

    /// <summary>Compression and the URLs the service writes: before everything, so error responses get both.</summary>
    public static IApplicationBuilder UseFhirCaseResponseCompressionAndBaseUrl(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<HttpEdgeOptions>>().Value;
        var authorizationBaseUrl = app.ApplicationServices.GetRequiredService<IOptions<Security.AuthorizationOptions>>().Value.BaseUrl;
        app.UseResponseCompression();
        PublicBaseUrl.Use(app, options, string.IsNullOrWhiteSpace(options.BaseUrl) ? authorizationBaseUrl : options.BaseUrl);
        return app;
    }

    /// <summary>New requests refused and in-flight ones cancelled once the service stops: after error handling, which words the 503.</summary>
    public static IApplicationBuilder UseFhirCaseGracefulShutdown(this IApplicationBuilder app)
    {
        var shutdown = app.ApplicationServices.GetRequiredService<GracefulShutdown>();
        app.Use(shutdown.InvokeAsync);
        return app;
    }

    /// <summary>
    /// gzip request bodies decompressed (after the limits middleware has set the body size limit, which the decompressing
    /// stream enforces on the decompressed bytes), and the 406 of a `_format`/`Accept` this server cannot serve.
    /// </summary>
    public static IApplicationBuilder UseFhirCaseRequestDecodingAndNegotiation(this IApplicationBuilder app)
    {
        app.UseRequestDecompression();
        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            // The OpenAPI endpoint answers an unknown document name with a bare text 404; every 404 here is an OperationOutcome.
            if (path.StartsWithSegments("/openapi", StringComparison.OrdinalIgnoreCase) && !path.Equals(ApiDocumentation.DocumentPath, StringComparison.OrdinalIgnoreCase))
            {
                await OperationOutcomes.NotFound($"The OpenAPI document is at {ApiDocumentation.DocumentPath}.").ExecuteAsync(context);
                return;
            }
            if (context.GetEndpoint() is not null && !NonFhirPaths.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase))
                && !FhirFormat.TryFrom(context.Request, out _))
                throw FhirFormat.NotAcceptable();
            await next(context);
        });
        return app;
    }
}

/// <summary>
/// The base URL written into Location headers, fullUrls, paging links and export URLs: the configured one, else the
/// forwarded headers of a configured trusted proxy, else the address and port the connection arrived at. The Host
/// header is never used: a client (or anyone who can make a victim's client send a header) must not choose the URLs
/// others are told to follow.
/// </summary>
internal static class PublicBaseUrl
{
    private const string ForwardedByTrustedProxy = "fhircase.forwarded-by-trusted-proxy";

    public static void Use(IApplicationBuilder app, HttpEdgeOptions options, string? configuredBaseUrl)
    {
        if (!string.IsNullOrWhiteSpace(configuredBaseUrl))
        {
            var uri = new Uri(configuredBaseUrl.TrimEnd('/'));
            var host = new HostString(uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");
            var pathBase = new PathString(uri.AbsolutePath.TrimEnd('/'));
            app.Use((context, next) =>
            {
                context.Request.Scheme = uri.Scheme;
                context.Request.Host = host;
                context.Request.PathBase = pathBase.Add(context.Request.PathBase);
                return next(context);
            });
            return;
        }

        var proxies = options.TrustedProxyAddresses();
        if (proxies.Count > 0)
        {
            app.Use((context, next) =>
            {
                if (context.Connection.RemoteIpAddress is { } peer && proxies.Contains(Plain(peer)) && context.Request.Headers.ContainsKey("X-Forwarded-Host"))
                    context.Items[ForwardedByTrustedProxy] = true;
                return next(context);
            });
            var forwarded = new ForwardedHeadersOptions
            {
                ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            };
            // The defaults trust loopback; only the configured proxies are trusted.
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in proxies)
                forwarded.KnownProxies.Add(proxy);
            app.UseForwardedHeaders(forwarded);
        }
        app.Use((context, next) =>
        {
            if (!context.Items.ContainsKey(ForwardedByTrustedProxy))
                context.Request.Host = LocalEndpoint(context);
            return next(context);
        });
    }

    private static HostString LocalEndpoint(HttpContext context)
    {
        if (context.Connection.LocalIpAddress is not { } address)
            return new HostString("localhost");
        address = Plain(address);
        var host = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        return new HostString(host, context.Connection.LocalPort);
    }

    private static IPAddress Plain(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
