using FhirCaseService.Api.Http;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Validation on write: the engine's verdict on what a client sends (core R4 + meta.profile + the profiles the server
/// requires for the type), in one pass over the value the request was parsed into once. Errors stop the write with
/// 422 and the engine's OperationOutcome; content the parser cannot read is a 400. For Bundles each issue carries its
/// entry (<see cref="IssueLocation.Entry"/>) and <see cref="BundleVerdict"/> names the entry's fullUrl.
/// </summary>
public sealed class WriteValidation(IResourceValidator validator, IOptions<WriteValidationOptions> options)
{
    private readonly WriteValidationOptions _options = options.Value;

    /// <summary>The server's required profiles and extension policy as options of the one validation (Bundle entries included).</summary>
    private readonly ValidationOptions _engineOptions = options.Value.ToEngineOptions();

    public bool Enabled => _options.Enabled;

    /// <summary>The engine options of a write (the required profiles per type, Bundle entries included, and the extension policy), for <c>$validate</c>.</summary>
    public ValidationOptions EngineOptions => _engineOptions;

    public IReadOnlyList<string> RequiredProfiles(string resourceType) => _options.RequiredFor(resourceType);

    /// <summary>The one parse of a write's body: the SDK object (possibly partial), its source map and the parser's findings.</summary>
    public static ParsedInstance Parse(FhirRequestBody body) => InstanceReader.Read(body.Text, body.Format);

    /// <summary>
    /// The verdict on a parsed body. Validation off, only the parser's findings count: any error among them is a 400
    /// (content that is not FHIR as written is never stored), and nothing else is judged.
    /// </summary>
    public async Task<ValidationResult> ValidateAsync(ParsedInstance instance, CancellationToken cancellationToken)
    {
        if (Enabled)
            return await validator.ValidateAsync(instance, _engineOptions, cancellationToken);
        var parserIssues = instance.Issues.Select(i => i.Issue).ToList();
        if (instance.Resource is null || parserIssues.Any(IsError))
            throw new FhirRequestException(StatusCodes.Status400BadRequest, new ValidationResult(parserIssues).ToOperationOutcome());
        return new ValidationResult([]);
    }

    /// <summary>The verdict on a resource the server built itself (case-series import, start-up examples).</summary>
    public async Task<ValidationResult> ValidateAsync(Resource resource, CancellationToken cancellationToken) =>
        Enabled ? await validator.ValidateAsync(resource, _engineOptions, cancellationToken) : new ValidationResult([]);

    /// <summary>
    /// A create or update body: parsed once, its type checked against the URL's, validated once. Throws 400 when it
    /// cannot be read or is of another type, 422 when it breaks a rule.
    /// </summary>
    public async Task<Resource> ReadValidResourceAsync(FhirRequestBody body, string resourceType, CancellationToken cancellationToken)
    {
        var instance = Parse(body);
        if (instance.Resource is { } parsed && parsed.TypeName != resourceType)
            throw FhirRequestException.BadRequest($"The body is a {parsed.TypeName}, but this URL takes a {resourceType}.", "resourceType");
        var result = await ValidateAsync(instance, cancellationToken);
        ThrowIfInvalid(result.Issues);
        return instance.Resource!;
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
}

/// <summary>
/// The validator's issues for a Bundle, grouped by the entry each is about (<see cref="IssueLocation.Entry"/>, as the
/// engine reports it), with the entries' fullUrls taken from the parsed Bundle to name them.
/// </summary>
public sealed class BundleVerdict
{
    private readonly ILookup<int, ValidationIssue> _byEntry;
    private readonly IReadOnlyList<ValidationIssue> _bundleLevel;
    private readonly IReadOnlyList<string?> _fullUrls;

    private BundleVerdict(IReadOnlyList<ValidationIssue> issues, IReadOnlyList<string?> fullUrls)
    {
        Issues = issues;
        _fullUrls = fullUrls;
        _byEntry = issues.Where(i => i.Location.Entry is not null).ToLookup(i => i.Location.Entry!.Value);
        _bundleLevel = [.. issues.Where(i => i.Location.Entry is null)];
    }

    public static BundleVerdict Of(ValidationResult result, Bundle bundle) =>
        new(result.Issues, [.. RawBundle.Entries(bundle).Select(RawBundle.FullUrl)]);

    public IReadOnlyList<ValidationIssue> Issues { get; }

    public bool HasErrors => Issues.Any(WriteValidation.IsError);

    public bool EntryHasErrors(int index) => _byEntry[index].Any(WriteValidation.IsError);

    /// <summary>Errors about the Bundle itself rather than one entry (type, structure of the whole).</summary>
    public bool BundleHasErrors => _bundleLevel.Any(WriteValidation.IsError);

    /// <summary>The issues about the Bundle itself.</summary>
    public OperationOutcome BundleOutcome() => Outcome(_bundleLevel);

    /// <summary>The issues about one entry, diagnostics prefixed with the entry and its fullUrl.</summary>
    public OperationOutcome EntryOutcome(int index) => Outcome([.. _byEntry[index]]);

    /// <summary>What the validator found below error level about an entry that was stored (e.g. an extensible binding missed); null for none.</summary>
    public OperationOutcome? EntryWarnings(int index)
    {
        var warnings = _byEntry[index].Where(i => i.Severity == OperationOutcome.IssueSeverity.Warning).ToList();
        return warnings.Count == 0 ? null : Outcome(warnings);
    }

    /// <summary>The issues as an OperationOutcome, each diagnostics prefixed with the entry it concerns and its fullUrl.</summary>
    public OperationOutcome ToOperationOutcome() => Outcome(Issues);

    public void ThrowIfInvalid()
    {
        if (Issues.Any(i => i.Severity == OperationOutcome.IssueSeverity.Fatal))
            throw new FhirRequestException(StatusCodes.Status400BadRequest, ToOperationOutcome());
        if (HasErrors)
            throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity, ToOperationOutcome());
    }

    private OperationOutcome Outcome(IReadOnlyList<ValidationIssue> selected)
    {
        var outcome = new ValidationResult(selected).ToOperationOutcome();
        for (var i = 0; i < selected.Count; i++)
        {
            if (selected[i].Location.Entry is not int index)
                continue;
            var fullUrl = index < _fullUrls.Count ? _fullUrls[index] : null;
            var label = fullUrl is null ? $"Bundle.entry[{index}]" : $"Bundle.entry[{index}] ({fullUrl})";
            outcome.Issue[i].Diagnostics = $"{label}: {outcome.Issue[i].Diagnostics}";
        }
        return outcome;
    }
}
