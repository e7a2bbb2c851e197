using System.Net;
using System.Net.Http.Headers;
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

    private static void AssertCommonHeaders(HttpResponseMessage response)
    {
        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("no-referrer", Single(response, "Referrer-Policy"));
    }

    private static string Single(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.TryGetValues(name, out var values) ? values : []);
}
