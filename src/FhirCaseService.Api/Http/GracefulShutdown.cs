using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Http;

/// <summary>
/// A stop that ends within <see cref="HttpEdgeOptions.ShutdownTimeout"/>: from the moment the host is told to stop,
/// new requests get a 503 (with <c>Connection: close</c> and <c>Retry-After</c>, so a client or load balancer goes
/// elsewhere); requests in flight keep running until the timeout less the audit reserve, then their cancellation token
/// fires and, if they stop in time, they answer 503 as well (a store transaction that did not commit writes nothing).
/// What remains of the timeout is the audit writer's to write the queued events.
/// </summary>
public sealed class GracefulShutdown
{
    private readonly CancellationTokenSource _deadline = new();
    private readonly ILogger<GracefulShutdown> _logger;
    private volatile bool _stopping;

    public GracefulShutdown(IHostApplicationLifetime lifetime, IOptions<HttpEdgeOptions> options, ILogger<GracefulShutdown> logger)
    {
        _logger = logger;
        var edge = options.Value;
        lifetime.ApplicationStopping.Register(() =>
        {
            _stopping = true;
            _deadline.CancelAfter(edge.ShutdownTimeout - edge.AuditReserve);
            _logger.LogInformation("Stopping: new requests are refused; requests in flight are cancelled after {Drain}", edge.ShutdownTimeout - edge.AuditReserve);
        });
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (_stopping)
        {
            context.Response.Headers.Connection = "close";
            context.Response.Headers.RetryAfter = "1";
            await Refusal("The service is shutting down and takes no new requests; retry in a moment.").ExecuteAsync(context);
            return;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _deadline.Token);
        var clientToken = context.RequestAborted;
        context.RequestAborted = linked.Token;
        try
        {
            await next(context);
        }
        // Whatever a request cancelled by the deadline ends with (a cancellation, or the body reader's own error after its
        // read was cancelled) is a consequence of the stop, not of the request: the answer is the 503 that says so.
        catch (Exception e) when (_deadline.IsCancellationRequested && !clientToken.IsCancellationRequested && !context.Response.HasStarted)
        {
            _logger.LogInformation("Cancelled at shutdown: {Method} {Path} ({Exception})", context.Request.Method, context.Request.Path, e.GetType().Name);
            context.RequestAborted = clientToken;
            context.Response.Clear();
            context.Response.Headers.Connection = "close";
            await Refusal("The service is shutting down: the request was cancelled before it completed, and nothing of it was written. Send it again.")
                .ExecuteAsync(context);
        }
    }

    private static FhirResult Refusal(string message) =>
        OperationOutcomes.Error(StatusCodes.Status503ServiceUnavailable, OperationOutcome.IssueType.Transient, message);
}
