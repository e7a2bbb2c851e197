using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Http;

/// <summary>
/// A request the service answers with a 4xx and an OperationOutcome it has already worded: thrown where the
/// problem is found (deep in a transaction, say) and turned into the response by <see cref="FhirExceptionTable"/>.
/// </summary>
public sealed class FhirRequestException(int statusCode, OperationOutcome outcome)
    : Exception(outcome.Issue.FirstOrDefault()?.Diagnostics ?? $"HTTP {statusCode}")
{
    public int StatusCode { get; } = statusCode;
    public OperationOutcome Outcome { get; } = outcome;

    public static FhirRequestException Of(int statusCode, OperationOutcome.IssueType code, string message, string? expression = null)
    {
        var outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, code, message);
        if (expression is not null)
            outcome.Issue[0].Expression = [expression];
        return new FhirRequestException(statusCode, outcome);
    }

    public static FhirRequestException BadRequest(string message, string? expression = null) =>
        Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.Invalid, message, expression);
}
