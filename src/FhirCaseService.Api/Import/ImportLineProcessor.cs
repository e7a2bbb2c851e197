using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Limits;
using FhirCaseService.Api.Rest;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Import;
using FhirCaseService.Validation;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Import;

/// <summary>
/// What became of one input line: a write to make, a refusal to report, a line an earlier import stored byte for byte
/// whose version is still current (<see cref="Unchanged"/>: nothing to judge or write), or nothing (a blank line).
/// </summary>
public sealed record ImportLineOutcome(PreparedWrite? Write, ImportLineError? Error, ImportUnchangedLine? Unchanged = null)
{
    public static ImportLineOutcome Blank { get; } = new(null, null);
}

/// <summary>
/// Judges one NDJSON line the way any write is judged: the input limits, one parse, one validation of that parse with
/// the server's required profiles, the client's write scopes for the type; then prepares the storage row outside the
/// write lock. The parse is the validator's fast read (<see cref="InstanceReader.TryReadClean"/>, no per-primitive
/// validator in the SDK parse); only a line in which it or the validation finds something is read strictly
/// (<see cref="InstanceReader.Read"/>) and validated again, so a refusal has exactly the words, locations and line of the
/// strict judgement, and a clean line is parsed and validated once. Update-as-create: a resource with an
/// id is created or updated under it (unchanged content writes nothing); one without gets a new id. Thread-safe: lines
/// are judged in parallel.
/// </summary>
public sealed class ImportLineProcessor(IResourceValidator validator, IResourceStore store, WriteValidationOptions validation, LimitsOptions limits,
    ConformanceContext? conformance = null)
{
    private readonly ValidationOptions _validationOptions = validation.ToEngineOptions();
    private readonly byte[] _verdictKey = VerdictKey(validator, validation, limits, conformance);

    /// <summary>
    /// The type, id and hash of a line that names both at its top level (<see cref="ImportLineHash"/>); null for any other
    /// line. Reads the line's bytes without parsing them into a resource: a re-run recognises its unchanged lines by this.
    /// </summary>
    public ImportLineHash? Identify(NdjsonLine line)
    {
        if (line.Content is not { Length: > 0 } content || TopLevelTypeAndId(content) is not { } named)
            return null;
        return new ImportLineHash(named.Type, named.Id, Convert.ToHexStringLower(HMACSHA256.HashData(_verdictKey, content)));
    }

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

        var text = Encoding.UTF8.GetString(line.Content);
        // The fast read first (no delayed-validation dictionary in the SDK parse): a line that reads without a parser
        // finding and validates without an error is judged. Any error and the line is read and validated again strictly,
        // so a refused line's issues are worded and placed as the strict parser words and places them (FhirValidator's rule).
        if (validation.Enabled && InstanceReader.TryReadClean(text) is { Resource: { } clean } fast)
        {
            if (Admit(line.Number, clean, writableTypes) is { } refused)
                return refused;
            var fastIssues = (await validator.ValidateAsync(fast, _validationOptions, cancellationToken)).Issues;
            if (!fastIssues.Any(WriteValidation.IsError))
                return Prepare(line.Number, clean);
        }

        var parsed = InstanceReader.Read(text, ResourceFormat.Json);
        if (parsed.Resource is not { } resource)
            return new ImportLineOutcome(null, ImportLineErrors.FromIssues(line.Number, parsed.Issues.Select(i => i.Issue)));
        if (Admit(line.Number, resource, writableTypes) is { } refusal)
            return refusal;

        var issues = validation.Enabled
            ? (await validator.ValidateAsync(parsed, _validationOptions, cancellationToken)).Issues
            : [.. parsed.Issues.Select(i => i.Issue)];
        if (issues.Any(WriteValidation.IsError))
            return new ImportLineOutcome(null, ImportLineErrors.FromIssues(line.Number, issues));
        return Prepare(line.Number, resource);
    }

    /// <summary>Refuses a resource of a type this server does not store or the client may not write; null when admitted.</summary>
    private static ImportLineOutcome? Admit(long line, Resource resource, IReadOnlySet<string> writableTypes)
    {
        if (!StoredResourceTypes.IsStored(resource.TypeName))
            return Refuse(line, OperationOutcome.IssueType.NotSupported,
                $"{resource.TypeName} is not stored by this server (it stores {string.Join(", ", StoredResourceTypes.All)}); a Bundle's resources are imported one per line.",
                resource.TypeName);
        if (!writableTypes.Contains(resource.TypeName))
            return Refuse(line, OperationOutcome.IssueType.Forbidden,
                $"the client's token does not grant create and update on {resource.TypeName} (scope system/{resource.TypeName}.cu).", resource.TypeName);
        return null;
    }

    /// <summary>The storage row for a judged resource (the import owns the object: no copy); update-as-create.</summary>
    private ImportLineOutcome Prepare(long line, Resource resource)
    {
        var kind = PreparedWriteKind.Update;
        if (string.IsNullOrEmpty(resource.Id))
        {
            resource.Id = store.NewId();
            kind = PreparedWriteKind.Create;
        }
        try
        {
            return new ImportLineOutcome(new PreparedWrite(store.PrepareOwned(resource), kind, KeepUnchanged: true), null);
        }
        catch (InvalidStorageRequestException refused)
        {
            return Refuse(line, OperationOutcome.IssueType.Invalid, refused.Message, $"{resource.TypeName}.id");
        }
    }

    private static ImportLineOutcome Refuse(long line, OperationOutcome.IssueType code, string message, string? expression = null) =>
        new(null, ImportLineErrors.Single(line, code, message, expression));

    /// <summary>The top-level string values of "resourceType" and "id", or null when the line is not an object holding both.</summary>
    private static (string Type, string Id)? TopLevelTypeAndId(byte[] content)
    {
        try
        {
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = MaxScanDepth });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return null;
            string? type = null, id = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("resourceType"u8);
                var isId = !isType && reader.ValueTextEquals("id"u8);
                if (!reader.Read())
                    return null;
                if ((isType || isId) && reader.TokenType == JsonTokenType.String)
                {
                    if (isType) type = reader.GetString();
                    else id = reader.GetString();
                    if (type is not null && id is not null)
                        return (type, id);
                }
                else if (!reader.TrySkip())
                    return null;
            }
            return null;
        }
        catch (Exception unreadable) when (unreadable is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string that is not UTF-8 (GetString cannot transcode it): judged in full, which refuses it.
            return null;
        }
    }

    /// <summary>Deeper lines are not recognised (judged in full, where the limits refuse them).</summary>
    private const int MaxScanDepth = 256;

    /// <summary>
    /// What decides a line's verdict besides its bytes: this build of the service and its engine, the validation
    /// settings, the limits and the conformance packages loaded (a directory package by its files' names, sizes and
    /// times). A line hash keyed by it matches only under the same judge.
    /// </summary>
    private static byte[] VerdictKey(IResourceValidator validator, WriteValidationOptions validation, LimitsOptions limits, ConformanceContext? conformance)
    {
        var key = new StringBuilder();
        foreach (var assembly in new[] { typeof(ImportLineProcessor).Assembly, validator.GetType().Assembly, typeof(IResourceValidator).Assembly,
                     typeof(IResourceStore).Assembly, typeof(ConformanceContext).Assembly, typeof(Resource).Assembly }.Distinct())
            key.Append(assembly.ManifestModule.ModuleVersionId).Append('|');
        key.Append(JsonSerializer.Serialize(validation)).Append('|').Append(JsonSerializer.Serialize(limits)).Append('|');
        foreach (var package in conformance?.Packages ?? [])
        {
            key.Append(package.Origin).Append('@').Append(package.Manifest?.Name).Append('#').Append(package.Manifest?.Version).Append('|');
            if (Directory.Exists(package.Origin))
                foreach (var file in new DirectoryInfo(package.Origin).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
                    key.Append(file.FullName).Append(':').Append(file.Length).Append(':').Append(file.LastWriteTimeUtc.Ticks).Append('|');
            else if (File.Exists(package.Origin))
                key.Append(new FileInfo(package.Origin).Length).Append(':').Append(File.GetLastWriteTimeUtc(package.Origin).Ticks).Append('|');
        }
        return SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString()));
    }
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
