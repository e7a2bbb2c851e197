using System.Text;
using FhirCaseService.Api.Limits;
using FhirCaseService.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace FhirCaseService.Api.Search;

/// <summary>How a search treats parameters it does not know (FHIR's <c>Prefer: handling=</c>).</summary>
public enum SearchHandling { Lenient, Strict }

/// <summary>
/// The parameters of a search request in the order the client sent them: the query string, plus for
/// <c>POST [type]/_search</c> the form body. Order matters because it is what the page links repeat.
/// </summary>
public static class SearchRequest
{
    public const string FormContentType = "application/x-www-form-urlencoded";

    public static async Task<IReadOnlyList<KeyValuePair<string, string>>> ReadParametersAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var pairs = Parse(request.QueryString.Value);
        if (!HttpMethods.IsPost(request.Method) || request.ContentLength == 0)
            return pairs;
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        pairs.AddRange(Parse(await reader.ReadToEndAsync(cancellationToken)));
        // The query string alone was checked before the request got here (UseFhirCaseRequestLimits); with the form it may now exceed.
        var services = request.HttpContext.RequestServices;
        QueryLimits.Check(pairs, services.GetRequiredService<IOptions<LimitsOptions>>().Value.MaxSearchParameters,
            services.GetRequiredService<IOptions<StorageOptions>>().Value.MaxPageSize);
        return pairs;
    }

    /// <summary>True when a POST body can be read as search parameters (form encoded, or no body at all).</summary>
    public static bool HasFormBodyOrNone(HttpRequest request) =>
        request.ContentLength is null or 0 && string.IsNullOrEmpty(request.ContentType)
        || MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals(FormContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary><c>Prefer: handling=strict</c> makes unknown parameters an error; lenient is the default.</summary>
    public static SearchHandling Handling(HttpRequest request)
    {
        foreach (var header in request.Headers["Prefer"])
            foreach (var preference in (header ?? "").Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (preference.Equals("handling=strict", StringComparison.OrdinalIgnoreCase))
                    return SearchHandling.Strict;
        return SearchHandling.Lenient;
    }

    /// <summary>Splits "a=1&amp;b=2" keeping order and repeats; '+' is a space as in form encoding.</summary>
    public static List<KeyValuePair<string, string>> Parse(string? text)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrEmpty(text))
            return pairs;
        foreach (var part in text.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            var name = Decode(equals < 0 ? part : part[..equals]);
            var value = equals < 0 ? "" : Decode(part[(equals + 1)..]);
            if (name.Length > 0)
                pairs.Add(new KeyValuePair<string, string>(name, value));
        }
        return pairs;
    }

    /// <summary>The service's base URL as the client reached it: fullUrls and links are absolute under it.</summary>
    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";

    /// <summary>The last value given for <paramref name="name"/>, or null.</summary>
    public static string? Last(IReadOnlyList<KeyValuePair<string, string>> pairs, string name)
    {
        string? found = null;
        foreach (var (key, value) in pairs)
            if (key == name)
                found = value;
        return found;
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
