using FhirCaseService.Storage;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Http;

/// <summary>
/// The one place that decides which HTTP status an exception means. Everything here is an expected answer to a
/// request (a 4xx, or a 503 for a search the database could not finish in time); anything it does not know is a
/// server fault and becomes the 500 of <see cref="FhirErrorHandling"/>.
/// </summary>
public static class FhirExceptionTable
{
    public static bool TryMap(Exception exception, out int statusCode, out OperationOutcome outcome)
    {
        (statusCode, outcome) = exception switch
        {
            FhirRequestException e => (e.StatusCode, e.Outcome),
            TransactionEntryException e => Entry(e),
            VersionConflictException e => (StatusCodes.Status412PreconditionFailed, Issue(OperationOutcome.IssueType.Conflict, e.Message)),
            ResourceAlreadyExistsException e => (StatusCodes.Status409Conflict, Issue(OperationOutcome.IssueType.Duplicate, e.Message)),
            InvalidStorageRequestException e => (StatusCodes.Status400BadRequest, Issue(OperationOutcome.IssueType.Invalid, e.Message)),
            SearchQueryException e => (StatusCodes.Status400BadRequest, Issues(OperationOutcome.IssueType.Invalid, e.Errors)),
            // Valid, but not answerable in time: a server condition (5xx), yet an expected one with a way out for the client.
            SearchTimedOutException e => (StatusCodes.Status503ServiceUnavailable, Issue(OperationOutcome.IssueType.TooCostly, e.Message)),
            SortableTokensChangedException e => (StatusCodes.Status503ServiceUnavailable, Issue(OperationOutcome.IssueType.Exception, e.Message)),
            BadHttpRequestException e => (e.StatusCode, Issue(OperationOutcome.IssueType.Invalid, e.Message)),
            _ => (0, null!),
        };
        return statusCode != 0;
    }

    /// <summary>A failed entry of a transaction: the inner error's status, its issues located at the entry and named by fullUrl.</summary>
    private static (int, OperationOutcome) Entry(TransactionEntryException e)
    {
        if (!TryMap(e.InnerException!, out var status, out var inner))
            throw e.InnerException!;
        var outcome = new OperationOutcome();
        foreach (var issue in inner.Issue)
        {
            var located = (OperationOutcome.IssueComponent)issue.DeepCopy();
            located.Diagnostics = $"{e.EntryLabel}: {issue.Diagnostics}";
            located.Expression = !issue.Expression.Any() ? [e.EntryPath] : [.. issue.Expression.Select(x => e.EntryPath + "." + x)];
            outcome.Issue.Add(located);
        }
        return (status, outcome);
    }

    private static OperationOutcome Issue(OperationOutcome.IssueType code, string message) =>
        OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, code, message);

    private static OperationOutcome Issues(OperationOutcome.IssueType code, IEnumerable<string> messages) => new()
    {
        Issue = [.. messages.Select(m => new OperationOutcome.IssueComponent { Severity = OperationOutcome.IssueSeverity.Error, Code = code, Diagnostics = m })],
    };
}

/// <summary>An error while executing one entry of a transaction; the whole transaction is rolled back.</summary>
public sealed class TransactionEntryException(int index, string? fullUrl, Exception inner)
    : Exception($"Bundle.entry[{index}] failed: {inner.Message}", inner)
{
    public int Index { get; } = index;

    public string EntryPath => $"Bundle.entry[{Index}]";

    /// <summary>"Bundle.entry[3] (urn:uuid:...)": how a diagnostics text names the entry.</summary>
    public string EntryLabel => fullUrl is null ? EntryPath : $"{EntryPath} ({fullUrl})";
}
