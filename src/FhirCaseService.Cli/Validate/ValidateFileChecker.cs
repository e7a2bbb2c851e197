using System.Text.Json;
using System.Xml;
using FhirCaseService.Cli.Output;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Validate;

/// <summary>
/// Reads one input file and validates it with the engine. Syntax is checked here first, so a file that is not JSON,
/// XML or a FHIR resource at all is reported as unreadable (exit 2) with its line and column, apart from content
/// that is well-formed but invalid (exit 1). A fatal issue from the engine means the same (its contract: the text
/// cannot be read as a resource, e.g. an unknown resourceType), so it also makes the file unreadable. NDJSON is validated line by line and each issue carries its line number
/// in the file. An engine failure on one file becomes a fatal issue of that file, never the end of the run.
/// A JSON or XML file that a directory or pattern search found and that holds no FHIR resource at all is skipped.
/// </summary>
public sealed class ValidateFileChecker(IResourceValidator validator, ValidationOptions options)
{
    public const string EngineFailureRule = "validator-exception";
    private const string FhirXmlNamespace = "http://hl7.org/fhir";

    /// <summary>The file's report, or null when the file was found by a search and holds no FHIR resource.</summary>
    public async Task<ValidatedFile?> CheckAsync(ValidateInput input, CancellationToken cancellationToken)
    {
        string content;
        try
        {
            content = await ReadAllTextAsync(input.FullPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ValidatedFile.UnreadableInput(input.DisplayPath, $"cannot read the file: {e.Message}");
        }

        var kind = input.Kind == ValidateInputKind.Unknown ? Sniff(content) : input.Kind;
        return kind switch
        {
            ValidateInputKind.Json => await CheckSingleAsync(input, content, ResourceFormat.Json, cancellationToken).ConfigureAwait(false),
            ValidateInputKind.Xml => await CheckSingleAsync(input, content, ResourceFormat.Xml, cancellationToken).ConfigureAwait(false),
            ValidateInputKind.Ndjson => await CheckNdjsonAsync(input.DisplayPath, content, cancellationToken).ConfigureAwait(false),
            _ => ValidatedFile.UnreadableInput(input.DisplayPath, "not a FHIR JSON or XML resource (use a .json, .xml or .ndjson file)", 1, 1),
        };
    }

    /// <summary>
    /// What <see cref="File.ReadAllTextAsync(string, CancellationToken)"/> reads (UTF-8 unless a byte order mark says
    /// otherwise), through 1 MiB buffers instead of its 4 KiB ones: a 156 MiB file took 40,000 asynchronous reads.
    /// </summary>
    private static async Task<string> ReadAllTextAsync(string path, CancellationToken cancellationToken)
    {
        const int BufferSize = 1 << 20;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, BufferSize);
            return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<ValidatedFile?> CheckSingleAsync(ValidateInput input, string content, ResourceFormat format, CancellationToken cancellationToken)
    {
        var syntaxError = format == ResourceFormat.Json ? JsonSyntaxError(content) : XmlSyntaxError(content);
        if (syntaxError is { NotFhir: true } && !input.Named)
            return null;
        if (syntaxError is not null)
            return ValidatedFile.UnreadableInput(input.DisplayPath, syntaxError.Message, syntaxError.Line, syntaxError.Column);
        var result = await ValidateAsync(content, format, cancellationToken).ConfigureAwait(false);
        return new ValidatedFile(input.DisplayPath, result, result.Issues.Any(IsUnreadableFinding));
    }

    /// <summary>The engine's fatal issues say the text cannot be read as a resource; its crash is ours to report, not the input's fault.</summary>
    private static bool IsUnreadableFinding(ValidationIssue issue) =>
        issue.Severity == OperationOutcome.IssueSeverity.Fatal && issue.Rule != EngineFailureRule;

    private async Task<ValidatedFile> CheckNdjsonAsync(string path, string content, CancellationToken cancellationToken)
    {
        var issues = new List<ValidationIssue>();
        var unreadable = false;
        var lines = content.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].TrimEnd('\r');
            var lineNumber = index + 1;
            // Blank lines (such as the one after the final newline) hold no resource.
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var syntaxError = JsonSyntaxError(line);
            if (syntaxError is not null)
            {
                unreadable = true;
                issues.Add(InputIssue(syntaxError.Message, lineNumber, syntaxError.Column));
                continue;
            }
            var result = await ValidateAsync(line, ResourceFormat.Json, cancellationToken).ConfigureAwait(false);
            unreadable |= result.Issues.Any(IsUnreadableFinding);
            issues.AddRange(result.Issues.Select(i => i with { Location = i.Location with { Line = lineNumber } }));
        }
        return new ValidatedFile(path, new ValidationResult(issues), unreadable);
    }

    private async Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, CancellationToken cancellationToken)
    {
        try
        {
            return await validator.ValidateAsync(content, format, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new ValidationResult([new ValidationIssue(
                OperationOutcome.IssueSeverity.Fatal,
                OperationOutcome.IssueType.Exception,
                $"the validator failed on this file: {e.GetType().Name}: {e.Message}",
                new IssueLocation(string.Empty),
                EngineFailureRule)]);
        }
    }

    /// <param name="NotFhir">Well-formed JSON or XML that is simply not a FHIR resource.</param>
    internal sealed record SyntaxError(string Message, int Line, int Column, bool NotFhir = false);

    private static ValidationIssue InputIssue(string message, int line, int column) =>
        new(OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Structure, message,
            new IssueLocation(string.Empty, line, column), ValidatedFile.InputRule);

    /// <summary>
    /// Whether the text is well-formed JSON holding an object whose "resourceType" is a string: what
    /// <see cref="JsonDocument.Parse(string, JsonDocumentOptions)"/> with <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/>
    /// answers (the same reader, options, transcoding and messages; the last of repeated root properties counts), in one
    /// pass of the reader that builds no document: a 156 MiB Bundle's document cost seconds and twice its size in memory
    /// before validation began.
    /// </summary>
    internal static SyntaxError? JsonSyntaxError(string content)
    {
        byte[]? rented = null;
        try
        {
            // JsonDocument.Parse(string) transcodes with a UTF-8 encoding that throws on invalid UTF-16, as this does.
            rented = System.Buffers.ArrayPool<byte>.Shared.Rent(StrictUtf8.GetByteCount(content));
            var length = StrictUtf8.GetBytes(content, rented);
            var reader = new Utf8JsonReader(rented.AsSpan(0, length), new JsonReaderOptions { MaxDepth = 64 });
            var rootIsObject = false;
            JsonTokenType? resourceType = null;
            var nextIsResourceType = false;
            while (reader.Read())
            {
                if (nextIsResourceType)
                {
                    resourceType = reader.TokenType;
                    nextIsResourceType = false;
                }
                else if (reader.CurrentDepth == 0 && reader.TokenType == JsonTokenType.StartObject)
                    rootIsObject = true;
                else if (rootIsObject && reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                    nextIsResourceType = reader.ValueTextEquals("resourceType"u8);
            }
            if (!rootIsObject || resourceType != JsonTokenType.String)
                return new SyntaxError("not a FHIR resource: expected a JSON object with a \"resourceType\" string", 1, 1, NotFhir: true);
            return null;
        }
        catch (JsonException e)
        {
            // System.Text.Json counts lines and byte positions from 0.
            return new SyntaxError($"not valid JSON: {FirstSentence(e.Message)}", (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
        finally
        {
            if (rented is not null)
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static SyntaxError? XmlSyntaxError(string content)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null };
        try
        {
            using var reader = XmlReader.Create(new StringReader(content), settings);
            reader.MoveToContent();
            var rootIsFhir = reader.NamespaceURI == FhirXmlNamespace;
            while (reader.Read())
            {
            }
            return rootIsFhir ? null : new SyntaxError($"not a FHIR resource: the root element must be in the namespace {FhirXmlNamespace}", 1, 1, NotFhir: true);
        }
        catch (XmlException e)
        {
            return new SyntaxError($"not well-formed XML: {e.Message}", Math.Max(e.LineNumber, 1), Math.Max(e.LinePosition, 1));
        }
    }

    /// <summary>Content with no telling extension: XML starts with '&lt;', JSON with '{'.</summary>
    private static ValidateInputKind Sniff(string content)
    {
        foreach (var character in content)
        {
            if (char.IsWhiteSpace(character) || character == '\uFEFF')
                continue;
            return character switch
            {
                '<' => ValidateInputKind.Xml,
                '{' => ValidateInputKind.Json,
                _ => ValidateInputKind.Unknown,
            };
        }
        return ValidateInputKind.Unknown;
    }

    // System.Text.Json appends its own "LineNumber: .. | BytePositionInLine: .." which we already report as line:col.
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }
}
