using System.Net;
using System.Text.Json;

namespace FhirCaseService.Cli.Http;

/// <summary>Reading what a FHIR server says when it says no: OperationOutcome issues and Retry-After.</summary>
public static class ServerResponses
{
    /// <summary>Bodies longer than this are not echoed: an error page is not worth a screenful.</summary>
    private const int MaxEchoedBody = 300;

    /// <summary>"400 Bad Request: error invalid: unknown type 'Foo' (_type)"; issues joined by "; ".</summary>
    public static async Task<string> DescribeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase ?? response.StatusCode.ToString()}";
        var issues = IssueLines(body);
        if (issues.Count > 0)
            return $"{status}: {string.Join("; ", issues)}";
        var text = body.Trim();
        return text.Length == 0 ? status : $"{status}: {(text.Length > MaxEchoedBody ? text[..MaxEchoedBody] + "..." : text)}";
    }

    /// <summary>The issues of an OperationOutcome as "severity code: diagnostics (expression)"; empty when the text is no OperationOutcome.</summary>
    public static IReadOnlyList<string> IssueLines(string json) =>
        Issues(json).Select(i => i.ToString()).ToList();

    public static IReadOnlyList<OutcomeIssue> Issues(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return Issues(document.RootElement);
        }
        catch (JsonException)
        {
            return [];
        }
    }

    public static IReadOnlyList<OutcomeIssue> Issues(JsonElement outcome)
    {
        if (outcome.ValueKind != JsonValueKind.Object
            || !outcome.TryGetProperty("resourceType", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "OperationOutcome"
            || !outcome.TryGetProperty("issue", out var issues) || issues.ValueKind != JsonValueKind.Array)
            return [];
        return issues.EnumerateArray()
            .Where(i => i.ValueKind == JsonValueKind.Object)
            .Select(i => new OutcomeIssue(
                Text(i, "severity") ?? "error",
                Text(i, "code") ?? "unknown",
                Text(i, "diagnostics") ?? (i.TryGetProperty("details", out var details) ? Text(details, "text") : null),
                i.TryGetProperty("expression", out var expression) && expression.ValueKind == JsonValueKind.Array
                    ? string.Join(", ", expression.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()))
                    : null))
            .ToList();
    }

    /// <summary>
    /// How long the server asks the client to wait (Retry-After as seconds or an HTTP date), or null when it does not say.
    /// A date in the past means "now".
    /// </summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header?.Date is { } date)
            return date > now ? date - now : TimeSpan.Zero;
        return null;
    }

    public static bool IsServerError(HttpStatusCode status) => (int)status >= 500;

    private static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

/// <summary>One OperationOutcome issue, as much as a person needs to read.</summary>
public sealed record OutcomeIssue(string Severity, string Code, string? Diagnostics, string? Expression)
{
    public bool IsError => Severity is "error" or "fatal";

    public override string ToString() =>
        $"{Severity} {Code}" + (Diagnostics is null ? "" : $": {Diagnostics}") + (string.IsNullOrEmpty(Expression) ? "" : $" ({Expression})");
}
