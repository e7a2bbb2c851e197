using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Http;

/// <summary>Short-hands for the OperationOutcome bodies every error response carries.</summary>
public static class OperationOutcomes
{
    public static OperationOutcome Single(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string message) =>
        new()
        {
            Issue =
            [
                new OperationOutcome.IssueComponent { Severity = severity, Code = code, Diagnostics = message },
            ],
        };

    public static FhirResult Error(int statusCode, OperationOutcome.IssueType code, string message) =>
        new(Single(OperationOutcome.IssueSeverity.Error, code, message), statusCode);

    public static FhirResult NotFound(string message) =>
        Error(StatusCodes.Status404NotFound, OperationOutcome.IssueType.NotFound, message);
}
