using System.Net;
using FhirCaseService.Api.Limits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>Every response carries the headers that keep a browser from sniffing, framing, caching or leaking it.</summary>
public sealed class SecurityHeadersTests(ServiceHost host) : IClassFixture<ServiceHost>
{
    [Theory]
    [InlineData("/metadata", HttpStatusCode.OK)]
    [InlineData("/Patient?_count=1", HttpStatusCode.OK)]
    [InlineData("/Patient/not-there", HttpStatusCode.NotFound)]
    [InlineData("/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("/Patient?_count=100000", HttpStatusCode.BadRequest)]
    public async Task FHIR_responses_carry_the_security_headers_and_are_not_cached(string path, HttpStatusCode status)
    {
        using var response = await host.Client.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        AssertCommonHeaders(response);
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", Single(response, "Content-Security-Policy"));
        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store is missing");
        // Plain HTTP: HSTS is only meaningful (and only sent) over HTTPS.
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task The_API_reference_page_carries_the_security_headers_with_a_policy_that_keeps_it_on_this_origin()
    {
        using var response = await host.Client.GetAsync("/docs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertCommonHeaders(response);
        var policy = Single(response, "Content-Security-Policy");
        Assert.Contains("default-src 'self'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.DoesNotContain("http", policy);
        Assert.DoesNotContain("*", policy);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Strict_Transport_Security_is_sent_on_HTTPS_requests_only(bool https)
    {
        var response = new StartingResponseFeature();
        var context = new DefaultHttpContext();
        context.Features.Set<IHttpResponseFeature>(response);
        context.Request.Scheme = https ? "https" : "http";
        context.Request.Path = "/metadata";

        SecurityHeaders.Apply(context);
        await response.StartAsync();

        Assert.Equal(https ? "max-age=31536000" : null, (string?)context.Response.Headers.StrictTransportSecurity);
        Assert.Equal("nosniff", (string?)context.Response.Headers.XContentTypeOptions);
    }

    /// <summary>A response feature that runs its OnStarting callbacks when told to, as a server does when the response starts.</summary>
    private sealed class StartingResponseFeature : HttpResponseFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _starting = [];

        public override void OnStarting(Func<object, Task> callback, object state) => _starting.Add((callback, state));

        public async Task StartAsync()
        {
            foreach (var (callback, state) in _starting)
                await callback(state);
        }
    }

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
    }

    private static string Single(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values : []);
}
