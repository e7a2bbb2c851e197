using System.Diagnostics;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Diagnostics;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Http;

/// <summary>
/// Every error leaves the service as an OperationOutcome: unexpected exceptions become a 500 that names
/// only a correlation id (details go to the log), and bare status codes (unknown route, wrong method)
/// get an OperationOutcome body too.
/// </summary>
public static class FhirErrorHandling
{
    public static IApplicationBuilder UseFhirErrorHandling(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(errorApp => errorApp.Run(WriteUnexpectedErrorAsync));
        app.UseStatusCodePages(context => WriteStatusCodeOutcomeAsync(context.HttpContext));
        app.Use(AnswerExpectedErrorsAsync);
        return app;
    }

    /// <summary>
    /// Exceptions that are answers (412 on a stale If-Match, 409, 400...) are written here, from
    /// <see cref="FhirExceptionTable"/>, without the error log an unexpected exception deserves.
    /// </summary>
    private static async Task AnswerExpectedErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception exception) when (!context.Response.HasStarted && FhirExceptionTable.TryMap(exception, out var status, out var outcome))
        {
            context.Response.Clear();
            await new FhirResult(outcome, status).ExecuteAsync(context);
        }
    }

    private static async Task WriteUnexpectedErrorAsync(HttpContext context)
    {
        var correlationId = Activity.Current?.TraceId.ToString() ?? context.TraceIdentifier;
        var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("FhirCaseService.Errors");
        // Log the exception type and stack, never the request body: it may hold patient data.
        logger.LogError(exception, "Unhandled error {CorrelationId} on {Method} {Path}", correlationId, context.Request.Method, context.Request.Path);

        var outcome = OperationOutcomes.Single(
            OperationOutcome.IssueSeverity.Fatal,
            OperationOutcome.IssueType.Exception,
            $"The server could not complete the request. Quote correlation id {correlationId} to the operators.");
        await new FhirResult(outcome, StatusCodes.Status500InternalServerError).ExecuteAsync(context);
    }

    private static Task WriteStatusCodeOutcomeAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var (code, message) = status switch
        {
            StatusCodes.Status404NotFound => (OperationOutcome.IssueType.NotSupported, $"No FHIR interaction is served at {context.Request.Method} {context.Request.Path}."),
            StatusCodes.Status405MethodNotAllowed => (OperationOutcome.IssueType.NotSupported, $"{context.Request.Method} is not supported on {context.Request.Path}."),
            StatusCodes.Status415UnsupportedMediaType => (OperationOutcome.IssueType.NotSupported, "Send FHIR content as application/fhir+json or application/fhir+xml."),
            StatusCodes.Status413PayloadTooLarge => (OperationOutcome.IssueType.TooLong, "The request body is larger than the server accepts."),
            _ => (OperationOutcome.IssueType.Processing, $"The request failed with HTTP status {status}."),
        };
        return new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, code, message), status).ExecuteAsync(context);
    }
}
