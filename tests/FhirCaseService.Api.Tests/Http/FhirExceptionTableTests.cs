using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Api.Tests.Http;

public sealed class FhirExceptionTableTests
{
    [Fact]
    public void A_search_the_database_gave_up_on_is_a_503_too_costly_outcome_that_says_how_to_ask_for_less()
    {
        var mapped = FhirExceptionTable.TryMap(new SearchTimedOutException(new TimeoutException("driver detail")), out var status, out var outcome);

        Assert.True(mapped);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, status);
        var issue = Assert.Single(outcome.Issue);
        Assert.Equal(OperationOutcome.IssueType.TooCostly, issue.Code);
        Assert.Contains("_count", issue.Diagnostics, StringComparison.Ordinal);
        Assert.DoesNotContain("driver detail", issue.Diagnostics, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_exception_is_left_to_the_500_handler()
    {
        Assert.False(FhirExceptionTable.TryMap(new InvalidOperationException("bug"), out _, out _));
    }
}
