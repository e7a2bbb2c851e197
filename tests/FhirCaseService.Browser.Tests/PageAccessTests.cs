using System.Net;
using FhirCaseService.Api.Tests.Security;

namespace FhirCaseService.Browser.Tests;

/// <summary>
/// With authorization on, a browser holds no SMART token: the data pages do not exist (404), the validator page follows
/// $validate's rule (401 without a token), and the pages' stylesheet and scripts, which hold no data, stay public.
/// </summary>
public sealed class PageAccessTests(SecuredServiceHost host) : IClassFixture<SecuredServiceHost>
{
    [Theory]
    [InlineData("/app/")]
    [InlineData("/app/swimmer.svg")]
    [InlineData("/app/patients/aertgeerts-2025-ino-bridge-p1")]
    public async Task Data_pages_are_not_served_while_authorization_is_on(string path)
    {
        using var response = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Validator_page_needs_a_token_like_validate()
    {
        using var response = await host.Client.GetAsync("/app/validate");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var client = host.ClientWithScopes("system/*.rs");
        using var withToken = await client.GetAsync("/app/validate");
        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        using var dataPage = await client.GetAsync("/app/");
        Assert.Equal(HttpStatusCode.NotFound, dataPage.StatusCode);
    }

    [Theory]
    [InlineData("/app/assets/app.css", "text/css")]
    [InlineData("/app/assets/validate.js", "text/javascript")]
    public async Task Page_assets_are_public_and_under_the_pages_policy(string path, string mediaType)
    {
        using var response = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FhirCaseService.Api.App.AppEndpoints.ContentSecurityPolicy, string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
    }
}
