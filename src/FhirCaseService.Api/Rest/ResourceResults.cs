using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Rest;

/// <summary>The answer to a write: status, ETag, Last-Modified, Location, and the body <c>Prefer: return=</c> asks for.</summary>
public sealed class WriteResult(WriteOutcome outcome) : IResult
{
    public WriteOutcome Outcome { get; } = outcome;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        var stored = Outcome.Stored;
        if (stored is not null)
        {
            VersionHeaders.Write(response, stored);
            if (!stored.IsDeleted)
                response.Headers.Location = VersionHeaders.Location(BaseUrl.Of(request), stored);
        }
        if (Outcome.Status == StatusCodes.Status204NoContent)
        {
            response.StatusCode = Outcome.Status;
            return;
        }
        switch (PreferHeader.ReturnOf(request))
        {
            case PreferReturn.Minimal:
                response.StatusCode = Outcome.Status;
                break;
            case PreferReturn.OperationOutcome:
                await new FhirResult(OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information,
                    OperationOutcome.IssueType.Informational, Outcome.Message), Outcome.Status).ExecuteAsync(httpContext);
                break;
            default:
                if (stored?.Resource is { } resource)
                    await new FhirResult(resource, Outcome.Status).ExecuteAsync(httpContext);
                else
                    response.StatusCode = Outcome.Status;
                break;
        }
    }
}

/// <summary>The answer to read and vread: 200 with ETag and Last-Modified, 304 when If-None-Match names the current version, 410, 404.</summary>
public sealed class ReadResultResult(ReadResult read, string reference) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        switch (read.Status)
        {
            case ReadStatus.Found:
                var stored = read.Version!;
                VersionHeaders.Write(httpContext.Response, stored);
                if (NotModified(httpContext.Request, stored))
                {
                    httpContext.Response.StatusCode = StatusCodes.Status304NotModified;
                    return;
                }
                await new FhirResult(stored.Resource!).ExecuteAsync(httpContext);
                break;
            case ReadStatus.Deleted:
                VersionHeaders.Write(httpContext.Response, read.Version!);
                await OperationOutcomes.Error(StatusCodes.Status410Gone, OperationOutcome.IssueType.Deleted,
                    $"{reference} was deleted (version {read.Version!.VersionId}).").ExecuteAsync(httpContext);
                break;
            default:
                await OperationOutcomes.NotFound($"{reference} is not known to this server.").ExecuteAsync(httpContext);
                break;
        }
    }

    private static bool NotModified(HttpRequest request, StoredResource stored)
    {
        var ifNoneMatch = request.Headers.IfNoneMatch.ToString();
        if (!string.IsNullOrWhiteSpace(ifNoneMatch))
            return ifNoneMatch.Split(',').Any(tag => tag.Trim() == "*" || tag.Trim().TrimStart('W', '/') == $"\"{stored.VersionId}\"");
        var since = request.GetTypedHeaders().IfModifiedSince;
        // Last-Modified has whole seconds; compare at that precision.
        return since is { } s && stored.LastUpdated.ToUnixTimeSeconds() <= s.ToUnixTimeSeconds();
    }
}

public static class BaseUrl
{
    /// <summary>The service's base as the client reached it: what Location headers and fullUrls are built on.</summary>
    public static string Of(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";
}
