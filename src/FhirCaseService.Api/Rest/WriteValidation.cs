using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using FhirCaseService.Api.Http;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Validation on write: the engine's verdict on what a client sends (core R4 + meta.profile + the profiles the server
/// requires for the type). Errors stop the write with 422 and the engine's OperationOutcome; for Bundles each issue is
/// located at its entry (<c>Bundle.entry[3].resource.value.ofType(Quantity)</c>) and its diagnostics name the entry's fullUrl.
/// </summary>
public sealed partial class WriteValidation(IResourceValidator validator, IOptions<WriteValidationOptions> options)
{
    private readonly WriteValidationOptions _options = options.Value;

    public bool Enabled => _options.Enabled;

    public IReadOnlyList<string> RequiredProfiles(string resourceType) => _options.RequiredFor(resourceType);

    /// <summary>Validates one resource as sent; throws 400 when it cannot be read, 422 when it breaks a rule.</summary>
    public async Task EnsureValidAsync(FhirRequestBody body, string resourceType, CancellationToken cancellationToken)
    {
        if (!Enabled)
            return;
        var result = await validator.ValidateAsync(body.Text, body.Format,
            new ValidationOptions { Profiles = _options.RequiredFor(resourceType) }, cancellationToken);
        ThrowIfInvalid(result.Issues);
    }

    /// <summary>
    /// Validates a transaction or batch Bundle as sent (one pass over the text, so issues keep line and column), then
    /// the entries whose type the server requires profiles for that they do not declare. Returns the issues per entry
    /// index (-1: the Bundle itself); the caller decides what an error means (transaction: all fails; batch: that entry).
    /// </summary>
    public async Task<BundleVerdict> ValidateBundleAsync(FhirRequestBody body, CancellationToken cancellationToken)
    {
        if (!Enabled)
            return BundleVerdict.Unchecked;
        var result = await validator.ValidateAsync(body.Text, body.Format, ValidationOptions.Default, cancellationToken);
        return new BundleVerdict(result.Issues, EntryFullUrls(body));
    }

    /// <summary>Adds the checks against required profiles the entries of a parsed Bundle do not declare themselves.</summary>
    public async Task<BundleVerdict> AddRequiredProfileChecksAsync(BundleVerdict verdict, Bundle bundle, CancellationToken cancellationToken)
    {
        if (!Enabled || _options.RequiredProfiles.Count == 0)
            return verdict;
        var issues = verdict.Issues.ToList();
        var seen = issues.Select(i => (i.Location.Expression, i.Rule)).ToHashSet();
        for (var index = 0; index < bundle.Entry.Count; index++)
        {
            var resource = bundle.Entry[index].Resource;
            if (resource is null)
                continue;
            var declared = resource.Meta?.Profile ?? [];
            var missing = _options.RequiredFor(resource.TypeName).Where(p => !declared.Contains(p)).ToList();
            if (missing.Count == 0)
                continue;
            var result = await validator.ValidateAsync(resource, new ValidationOptions { Profiles = missing }, cancellationToken);
            foreach (var issue in result.Issues)
            {
                var located = issue with { Location = issue.Location with { Expression = InEntry(index, issue.Location.Expression) } };
                if (seen.Add((located.Location.Expression, located.Rule)))
                    issues.Add(located);
            }
        }
        return verdict with { Issues = issues };
    }

    /// <summary>Validates a Bundle the server built itself (case-series import, start-up examples): required profiles included.</summary>
    public async Task<BundleVerdict> ValidateBundleAsync(Bundle bundle, CancellationToken cancellationToken)
    {
        if (!Enabled)
            return BundleVerdict.Unchecked;
        var result = await validator.ValidateAsync(bundle, ValidationOptions.Default, cancellationToken);
        var verdict = new BundleVerdict(result.Issues, [.. bundle.Entry.Select(e => e.FullUrl)]);
        return await AddRequiredProfileChecksAsync(verdict, bundle, cancellationToken);
    }

    public static void ThrowIfInvalid(IReadOnlyList<ValidationIssue> issues)
    {
        if (issues.Any(i => i.Severity == OperationOutcome.IssueSeverity.Fatal))
            throw new FhirRequestException(StatusCodes.Status400BadRequest, new ValidationResult(issues).ToOperationOutcome());
        if (issues.Any(IsError))
            throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity, new ValidationResult(issues).ToOperationOutcome());
    }

    public static bool IsError(ValidationIssue issue) =>
        issue.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal;

    /// <summary>"Patient.gender" validated alone becomes "Bundle.entry[2].resource.gender" for an entry.</summary>
    private static string InEntry(int index, string expression)
    {
        var dot = expression.IndexOf('.', StringComparison.Ordinal);
        return $"Bundle.entry[{index}].resource" + (dot < 0 ? "" : expression[dot..]);
    }

    /// <summary>
    /// The entries' fullUrls read straight from the text: a Bundle that fails validation may not parse into objects,
    /// yet its issues should still name the entry they concern.
    /// </summary>
    private static IReadOnlyList<string?> EntryFullUrls(FhirRequestBody body)
    {
        try
        {
            if (body.Format == ResourceFormat.Xml)
            {
                XNamespace fhir = "http://hl7.org/fhir";
                return [.. XDocument.Parse(body.Text).Root?.Elements(fhir + "entry")
                    .Select(e => e.Element(fhir + "fullUrl")?.Attribute("value")?.Value) ?? []];
            }
            using var document = JsonDocument.Parse(body.Text);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("entry", out var entries) || entries.ValueKind != JsonValueKind.Array)
                return [];
            return [.. entries.EnumerateArray().Select(e =>
                e.ValueKind == JsonValueKind.Object && e.TryGetProperty("fullUrl", out var url) && url.ValueKind == JsonValueKind.String
                    ? url.GetString()
                    : null)];
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return [];
        }
    }

    [GeneratedRegex(@"^Bundle\.entry\[(\d+)\]")]
    internal static partial Regex EntryIndexPattern();
}

/// <summary>The validator's issues for a Bundle and the entries' fullUrls, to tell which entry each issue concerns.</summary>
public sealed record BundleVerdict(IReadOnlyList<ValidationIssue> Issues, IReadOnlyList<string?> FullUrls)
{
    public static BundleVerdict Unchecked { get; } = new([], []);

    /// <summary>The entry an issue is about (-1: the Bundle itself).</summary>
    public static int EntryIndexOf(ValidationIssue issue)
    {
        var match = WriteValidation.EntryIndexPattern().Match(issue.Location.Expression);
        return match.Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    public bool HasErrors => Issues.Any(WriteValidation.IsError);

    public bool EntryHasErrors(int index) => Issues.Any(i => WriteValidation.IsError(i) && EntryIndexOf(i) == index);

    /// <summary>Errors about the Bundle itself rather than one entry (type, structure of the whole).</summary>
    public bool BundleHasErrors => Issues.Any(i => WriteValidation.IsError(i) && EntryIndexOf(i) < 0);

    /// <summary>The issues as an OperationOutcome, each diagnostics prefixed with the entry it concerns and its fullUrl.</summary>
    public OperationOutcome ToOperationOutcome(Func<ValidationIssue, bool>? include = null)
    {
        var selected = Issues.Where(include ?? (_ => true)).ToList();
        var outcome = new ValidationResult(selected).ToOperationOutcome();
        for (var i = 0; i < selected.Count; i++)
        {
            var index = EntryIndexOf(selected[i]);
            if (index < 0)
                continue;
            var fullUrl = index < FullUrls.Count ? FullUrls[index] : null;
            var label = fullUrl is null ? $"Bundle.entry[{index}]" : $"Bundle.entry[{index}] ({fullUrl})";
            outcome.Issue[i].Diagnostics = $"{label}: {outcome.Issue[i].Diagnostics}";
        }
        return outcome;
    }

    public void ThrowIfInvalid()
    {
        if (Issues.Any(i => i.Severity == OperationOutcome.IssueSeverity.Fatal))
            throw new FhirRequestException(StatusCodes.Status400BadRequest, ToOperationOutcome());
        if (HasErrors)
            throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity, ToOperationOutcome());
    }
}
