using FhirCaseService.Api.Http;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// The longest URL the service takes (Limits:MaxUrlBytes) and, the same number, the longest page link it writes: a
/// registry that follows next links must never be handed one the server then refuses.
/// </summary>
public static class UrlLimits
{
    private const string Setting = $"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxUrlBytes)}";

    /// <summary>The configured Limits:MaxUrlBytes, for the code that writes page links.</summary>
    public static int MaxUrlBytes(HttpRequest request) =>
        request.HttpContext.RequestServices.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxUrlBytes;

    /// <summary>Throws a 414 when the request's target (path and query, as sent) is longer than <paramref name="maxUrlBytes"/>.</summary>
    public static void Check(HttpContext context, int maxUrlBytes)
    {
        // The raw target is what arrived on the wire: percent-encoded, so its length in characters is its length in bytes.
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value + context.Request.QueryString.Value;
        if (target.Length > maxUrlBytes)
            throw FhirRequestException.Of(StatusCodes.Status414UriTooLong, OperationOutcome.IssueType.TooLong,
                $"The request URL is {target.Length} bytes; this server accepts at most {maxUrlBytes} ({Setting}). " +
                "Send a long search as POST [type]/_search with its parameters in an application/x-www-form-urlencoded body.");
    }

    /// <summary>
    /// Throws a 400 when a page link of <paramref name="url"/> would be longer than <paramref name="maxUrlBytes"/>:
    /// the search's results span more than one page, and the link to the next would be refused.
    /// </summary>
    public static void CheckPageLink(string relation, string url, int maxUrlBytes)
    {
        var target = TargetLength(url);
        if (target > maxUrlBytes)
            throw FhirRequestException.Of(StatusCodes.Status400BadRequest, OperationOutcome.IssueType.TooCostly,
                $"The results span more than one page, and the {relation} link would be {target} bytes, longer than the " +
                $"{maxUrlBytes} this server accepts in a URL ({Setting}). Ask for a larger _count, or split the search " +
                "into several with shorter parameter values.");
    }

    /// <summary>
    /// The length of what a client sends back for an absolute link: its path and query. The scheme and host are not part
    /// of the request line. (Not <see cref="Uri"/>: it refuses strings longer than 65,519 characters.)
    /// </summary>
    private static int TargetLength(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var path = scheme < 0 ? 0 : url.IndexOf('/', scheme + 3);
        return path < 0 ? 1 : url.Length - path;
    }
}
