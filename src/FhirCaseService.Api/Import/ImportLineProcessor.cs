using System.Text;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Rest;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Import;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Import;

/// <summary>What became of one input line: a write to make, a refusal to report, or nothing (a blank line).</summary>
public sealed record ImportLineOutcome(PreparedWrite? Write, ImportLineError? Error)
{
    public static ImportLineOutcome Blank { get; } = new(null, null);
}

/// <summary>
/// Judges one NDJSON line the way any write is judged, once: the input limits, one parse
/// (<see cref="InstanceReader.Read"/>), one validation of that parse with the server's required profiles, the client's
/// write scopes for the type; then prepares the storage row outside the write lock. Update-as-create: a resource with an
/// id is created or updated under it (unchanged content writes nothing); one without gets a new id. Thread-safe: lines
/// are judged in parallel.
/// </summary>
public sealed class ImportLineProcessor(IResourceValidator validator, IResourceStore store, WriteValidationOptions validation, LimitsOptions limits)
{
    private readonly ValidationOptions _validationOptions = validation.ToEngineOptions();

    /// <summary>The longest line read into memory: one resource may be as large as one request body.</summary>
    public long MaxLineBytes => limits.MaxRequestBodyBytes;

    public async Task<ImportLineOutcome> ProcessAsync(NdjsonLine line, IReadOnlySet<string> writableTypes, CancellationToken cancellationToken)
    {
        if (line.Content is null)
            return Refuse(line.Number, OperationOutcome.IssueType.TooLong,
                $"the line is longer than the {limits.MaxRequestBodyBytes} bytes one resource may have ({LimitsOptions.Section}:{nameof(LimitsOptions.MaxRequestBodyBytes)}).");
        if (line.IsBlank)
            return ImportLineOutcome.Blank;
        try
        {
            RequestBodyLimits.CheckJson(line.Content, limits);
        }
        catch (FhirRequestException refused)
        {
            return new ImportLineOutcome(null, ImportLineErrors.FromOutcome(line.Number, refused.Outcome));
        }

        var parsed = InstanceReader.Read(Encoding.UTF8.GetString(line.Content), ResourceFormat.Json);
        if (parsed.Resource is not { } resource)
            return new ImportLineOutcome(null, ImportLineErrors.FromIssues(line.Number, parsed.Issues.Select(i => i.Issue)));
        if (!StoredResourceTypes.IsStored(resource.TypeName))
            return Refuse(line.Number, OperationOutcome.IssueType.NotSupported,
                $"{resource.TypeName} is not stored by this server (it stores {string.Join(", ", StoredResourceTypes.All)}); a Bundle's resources are imported one per line.",
                resource.TypeName);
        if (!writableTypes.Contains(resource.TypeName))
            return Refuse(line.Number, OperationOutcome.IssueType.Forbidden,
                $"the client's token does not grant create and update on {resource.TypeName} (scope system/{resource.TypeName}.cu).", resource.TypeName);

        var issues = validation.Enabled
            ? (await validator.ValidateAsync(parsed, _validationOptions, cancellationToken)).Issues
            : [.. parsed.Issues.Select(i => i.Issue)];
        if (issues.Any(WriteValidation.IsError))
            return new ImportLineOutcome(null, ImportLineErrors.FromIssues(line.Number, issues));

        var kind = PreparedWriteKind.Update;
        if (string.IsNullOrEmpty(resource.Id))
        {
            resource.Id = store.NewId();
            kind = PreparedWriteKind.Create;
        }
        try
        {
            return new ImportLineOutcome(new PreparedWrite(store.Prepare(resource), kind, KeepUnchanged: true), null);
        }
        catch (InvalidStorageRequestException refused)
        {
            return Refuse(line.Number, OperationOutcome.IssueType.Invalid, refused.Message, $"{resource.TypeName}.id");
        }
    }

    private static ImportLineOutcome Refuse(long line, OperationOutcome.IssueType code, string message, string? expression = null) =>
        new(null, ImportLineErrors.Single(line, code, message, expression));
}

/// <summary>
/// The error file's lines: one OperationOutcome per refused input line, each issue carrying the input line number in
/// the standard issue-line extension and diagnostics that start "line N: ".
/// </summary>
public static class ImportLineErrors
{
    public static ImportLineError FromIssues(long line, IEnumerable<ValidationIssue> issues)
    {
        var outcome = new ValidationResult([.. issues]).ToOperationOutcome();
        return FromOutcome(line, outcome);
    }

    public static ImportLineError Single(long line, OperationOutcome.IssueType code, string message, string? expression)
    {
        var outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error, code, message);
        if (expression is not null)
            outcome.Issue[0].Expression = [expression];
        return FromOutcome(line, outcome);
    }

    /// <summary>Places every issue on the input line (a line number the validator gave is the line within the one-line JSON: always 1).</summary>
    public static ImportLineError FromOutcome(long line, OperationOutcome outcome)
    {
        var number = line > int.MaxValue ? int.MaxValue : (int)line;
        foreach (var issue in outcome.Issue)
        {
            issue.Extension.RemoveAll(e => e.Url == ValidationResult.IssueLineExtension);
            issue.Extension.Insert(0, new Extension(ValidationResult.IssueLineExtension, new Integer(number)));
            issue.Diagnostics = $"line {line}: {issue.Diagnostics}";
        }
        return new ImportLineError(line, FhirSerialization.ToJson(outcome));
    }
}
