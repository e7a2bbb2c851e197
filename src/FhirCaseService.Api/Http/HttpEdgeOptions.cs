using System.Net;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Http;

/// <summary>How the service meets the network, bound from the "Http" section and checked at start-up.</summary>
public sealed class HttpEdgeOptions
{
    public const string Section = "Http";

    /// <summary>
    /// The absolute base URL clients reach the service at (e.g. <c>https://fhir.example.org/r4</c>): what Location
    /// headers, fullUrls, paging links and export URLs are built on. Unset: <c>Authorization:BaseUrl</c>, else the
    /// forwarded headers of a trusted proxy, else the address and port the connection arrived at. Never the Host header.
    /// </summary>
    public string? BaseUrl { get; set; }

    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For/-Proto/-Host are believed. Empty (the default): none are, so
    /// a client cannot choose the URLs the service writes or the address rate limiting sees.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// The longest a stop may take: new requests are refused at once (503), requests in flight get this minus
    /// <see cref="AuditReserve"/> to finish and are then cancelled, and the audit trail is written in the rest.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The part of <see cref="ShutdownTimeout"/> kept for writing the audit events still queued.</summary>
    public TimeSpan AuditReserve => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, ShutdownTimeout.Ticks / 4));

    public IReadOnlyList<IPAddress> TrustedProxyAddresses() => [.. TrustedProxies.Select(IPAddress.Parse)];
}

public sealed class HttpEdgeOptionsCheck : IValidateOptions<HttpEdgeOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpEdgeOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.BaseUrl)
            && !(Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.Query)))
            failures.Add($"{HttpEdgeOptions.Section}:{nameof(HttpEdgeOptions.BaseUrl)} must be an absolute http(s) URL without a query; it is '{options.BaseUrl}'.");
        foreach (var proxy in options.TrustedProxies)
            if (!IPAddress.TryParse(proxy, out _))
                failures.Add($"{HttpEdgeOptions.Section}:{nameof(HttpEdgeOptions.TrustedProxies)} lists '{proxy}', which is not an IP address.");
        if (options.ShutdownTimeout <= TimeSpan.Zero)
            failures.Add($"{HttpEdgeOptions.Section}:{nameof(HttpEdgeOptions.ShutdownTimeout)} must be positive.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
