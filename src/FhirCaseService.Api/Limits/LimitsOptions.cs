using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Limits;

/// <summary>
/// The maxima a request must stay within, bound from the "Limits" section and checked at start-up. The defaults leave
/// ample room for what EHRs and registries send (the paper's whole case series is one 83-entry, 195 KB Bundle) while
/// keeping one request from tying up memory or a parser.
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest request body in bytes (413 above). 16 MiB: eighty times the paper's whole case series.</summary>
    public long MaxRequestBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most entries in one Bundle (413 above); a page of <c>Storage:MaxPageSize</c> (1000) fits.</summary>
    public int MaxBundleEntries { get; set; } = 1000;

    /// <summary>Deepest nesting of JSON objects and arrays, or XML elements (400 above); System.Text.Json's own default.</summary>
    public int MaxJsonDepth { get; set; } = 64;

    /// <summary>Longest JSON string (or XML text/attribute value) in characters (400 above); 1 Mi characters.</summary>
    public int MaxStringLength { get; set; } = 1024 * 1024;

    /// <summary>Most query parameters (plus form parameters of <c>POST [type]/_search</c>) in one request (400 above).</summary>
    public int MaxSearchParameters { get; set; } = 50;

    /// <summary>
    /// Longest request URL (path and query, as sent) in bytes: 414 above, with an OperationOutcome that points to
    /// <c>POST [type]/_search</c>. It is also the longest page link the server writes, so every next/previous link it
    /// gives out is one it accepts: a search whose link would be longer is answered 400. 64 KiB (Kestrel's own default,
    /// 8 KiB, refused the links of a <c>POST _search</c> with a long <c>_id</c> list). Kestrel's request-line limit is
    /// set <see cref="KestrelLineMargin"/> above it, so a URL up to there gets the OperationOutcome; a longer one gets
    /// Kestrel's 414 without a body.
    /// </summary>
    public int MaxUrlBytes { get; set; } = 64 * 1024;

    /// <summary>How far above <see cref="MaxUrlBytes"/> Kestrel's request-line limit sits (method, protocol, and room to answer with an OperationOutcome).</summary>
    public const int KestrelLineMargin = 8 * 1024;

    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>
/// Per-client token bucket: a client may burst to <see cref="Burst"/> requests, then gets <see cref="PermitsPerSecond"/>
/// a second. A client is the authenticated client id, or the remote IP address when authorization is off.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>On or off; when unset, on everywhere but the Development environment (where tests and local runs live).</summary>
    public bool? Enabled { get; set; }

    /// <summary>Sustained requests per second per client. 100: a registry paging a search flat out stays well below.</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests a client may make at once before the sustained rate applies.</summary>
    public int Burst { get; set; } = 200;
}

/// <summary>Start-up check: a limit that is zero or negative would refuse every request, so the service does not start.</summary>
public sealed class LimitsOptionsCheck : IValidateOptions<LimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        var failures = new List<string>();
        void AtLeastOne(long value, string setting)
        {
            if (value < 1)
                failures.Add($"{LimitsOptions.Section}:{setting} must be at least 1; it is {value}.");
        }
        AtLeastOne(options.MaxRequestBodyBytes, nameof(LimitsOptions.MaxRequestBodyBytes));
        AtLeastOne(options.MaxBundleEntries, nameof(LimitsOptions.MaxBundleEntries));
        AtLeastOne(options.MaxJsonDepth, nameof(LimitsOptions.MaxJsonDepth));
        AtLeastOne(options.MaxStringLength, nameof(LimitsOptions.MaxStringLength));
        AtLeastOne(options.MaxSearchParameters, nameof(LimitsOptions.MaxSearchParameters));
        AtLeastOne(options.MaxUrlBytes, nameof(LimitsOptions.MaxUrlBytes));
        if (options.MaxUrlBytes > int.MaxValue - LimitsOptions.KestrelLineMargin)
            failures.Add($"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxUrlBytes)} must be at most {int.MaxValue - LimitsOptions.KestrelLineMargin}; it is {options.MaxUrlBytes}.");
        AtLeastOne(options.RateLimit.PermitsPerSecond, $"{nameof(LimitsOptions.RateLimit)}:{nameof(RateLimitOptions.PermitsPerSecond)}");
        AtLeastOne(options.RateLimit.Burst, $"{nameof(LimitsOptions.RateLimit)}:{nameof(RateLimitOptions.Burst)}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
