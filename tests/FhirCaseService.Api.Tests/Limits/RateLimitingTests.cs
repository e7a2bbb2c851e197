using System.Net;
using System.Net.Sockets;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using FhirCaseService.Api.Tests.Security;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Limits;

/// <summary>Rate limiting per client: with authorization off a client is its address, and each address has its own bucket.</summary>
public sealed class RateLimitingTests(RateLimitedHost host) : IClassFixture<RateLimitedHost>
{
    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_Retry_After_and_another_address_is_not_slowed()
    {
        using var first = ClientFrom(IPAddress.Parse("127.0.0.3"));
        // The bucket starts full: the burst is served.
        for (var i = 0; i < RateLimitedHost.Burst; i++)
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/metadata")).StatusCode);

        // One token a second comes back, so among a few more requests in quick succession one is refused.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            var response = await first.GetAsync("/metadata");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused = response;
        }

        Assert.NotNull(refused);
        var retryAfter = refused.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var outcome = FhirSerialization.StrictJson.Deserialize<OperationOutcome>(await refused.Content.ReadAsStringAsync());
        Assert.Equal(OperationOutcome.IssueType.Throttled, Assert.Single(outcome.Issue).Code);
        Assert.StartsWith("application/fhir+json", refused.Content.Headers.ContentType?.ToString());

        using var second = ClientFrom(IPAddress.Parse("127.0.0.4"));
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/metadata")).StatusCode);
        // Health probes are never throttled, even for the throttled address.
        Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/health/live")).StatusCode);
    }

    /// <summary>A client whose connections leave from <paramref name="source"/> (any 127.x address reaches the loopback listener).</summary>
    private HttpClient ClientFrom(IPAddress source)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = host.BaseAddress };
    }
}

/// <summary>With authorization on, a client is its token's client id: two clients behind one address have a bucket each.</summary>
public sealed class ClientRateLimitingTests(RateLimitedSecuredHost host) : IClassFixture<RateLimitedSecuredHost>
{
    [Fact]
    public async Task A_throttled_client_does_not_slow_another_client_from_the_same_address()
    {
        using var first = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", "client-a"));
        for (var i = 0; i < RateLimitedHost.Burst; i++)
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/Patient?_count=1")).StatusCode);
        var throttled = false;
        for (var i = 0; i < 20 && !throttled; i++)
            throttled = (await first.GetAsync("/Patient?_count=1")).StatusCode == HttpStatusCode.TooManyRequests;
        Assert.True(throttled, "client-a was never throttled");

        using var second = host.ClientWithToken(SecuredServiceHost.ExternalToken("system/*.rs", "client-b"));
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/Patient?_count=1")).StatusCode);
        // Callers without a token (here of the public CapabilityStatement) are told apart by address, not lumped with a client.
        using var anonymous = host.ClientWithToken(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metadata")).StatusCode);
    }
}
