using FhirCaseService.Api.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Tests.Security;

/// <summary>Secure by default: an endpoint someone forgot to mark is closed, never open.</summary>
public sealed class UnmarkedEndpointTests
{
    [Fact]
    public async System.Threading.Tasks.Task An_endpoint_without_an_access_marker_is_refused_with_403_and_its_handler_never_runs()
    {
        var (status, handlerRan) = await RunAsync("/Unmarked/1", new EndpointMetadataCollection());

        Assert.Equal(StatusCodes.Status403Forbidden, status);
        Assert.False(handlerRan);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_marked_endpoint_without_a_token_is_401_and_its_handler_never_runs()
    {
        var (status, handlerRan) = await RunAsync("/Patient", new EndpointMetadataCollection(new FhirAccessRequirement(ScopePermissions.Search, "Patient", true, false)));

        Assert.Equal(StatusCodes.Status401Unauthorized, status);
        Assert.False(handlerRan);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_public_endpoint_runs_without_a_token()
    {
        var (status, handlerRan) = await RunAsync("/metadata", new EndpointMetadataCollection(FhirAccessRequirement.Public));

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(handlerRan);
    }

    private static async Task<(int Status, bool HandlerRan)> RunAsync(string path, EndpointMetadataCollection metadata)
    {
        var options = Options.Create(new AuthorizationOptions());
        var validator = new AccessTokenValidator(options, new AuthorizationUrls(options), ServiceSigningKey.Generate(), new ExternalIssuerKeys(null));
        var middleware = new AuthorizationMiddleware(validator, NullLogger<AuthorizationMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("localhost");
        context.Request.Path = path;
        context.Response.Body = new MemoryStream();
        context.SetEndpoint(new Endpoint(_ => System.Threading.Tasks.Task.CompletedTask, metadata, "test endpoint"));
        var handlerRan = false;
        await middleware.InvokeAsync(context, _ =>
        {
            handlerRan = true;
            return System.Threading.Tasks.Task.CompletedTask;
        });
        return (context.Response.StatusCode, handlerRan);
    }
}
