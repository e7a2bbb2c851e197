using System.Reflection;
using FhirCaseService.Cli.Output;
using FhirCaseService.Cli.Validate;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase validate`: validates FHIR files for CI pipelines. Exit 0 when no issue reaches the --fail-on threshold,
/// 1 when one does, 2 on a usage error or a file that cannot be read or parsed (stderr names file:line:col).
/// </summary>
public sealed class ValidateCommand(ValidateEngineFactory createValidator, Func<bool> errorIsTerminal) : ICliCommand
{
    /// <summary>The real command: our engine over core R4, our package and the --package folders or tarballs; progress only on a terminal.</summary>
    public ValidateCommand()
        : this(ValidateEngine.CreateAsync, () => !Console.IsErrorRedirected)
    {
    }

    public string Name => "validate";

    public System.CommandLine.Command Grammar => ValidateArguments.Grammar;

    public string Summary => "validate FHIR JSON/XML/NDJSON files against core R4, our profiles and any package";

    public string Usage => """
        usage: fhircase validate <files|dirs|globs...> [--profile URL]... [--package DIR|TGZ]...
                                 [--format text|json|junit|sarif] [--fail-on error|warning] [--quiet]

        Inputs: .json and .xml files hold one resource; .ndjson files one JSON resource per line (issues carry
        that line). Directories are searched recursively for *.json, *.xml and *.ndjson (hidden folders skipped).
        Globs: * and ? within a folder name, ** across folders (quote them so the shell leaves them alone);
        a folder a glob matches is searched like a directory argument.
        JSON/XML files found by a directory or glob search that are no FHIR resource (package.json, test
        sidecars) are skipped with a note on stderr; a file named on its own must be a FHIR resource.

        Every resource is validated against core R4, our bundled profiles and the profiles in its meta.profile.
          --profile URL      also validate every resource against this profile (repeatable)
          --package DIR|TGZ  load a FHIR package (folder or .tgz) beside core and ours (repeatable)
          --format FORMAT    text (default): file:line:col severity expression message [rule], grouped by file
                             json: one file -> its OperationOutcome; several -> a Bundle of type batch-response,
                               one entry per file: response.location = file, response.status = 200 OK |
                               422 Unprocessable Entity (fails the threshold) | 400 Bad Request (unreadable),
                               response.outcome = the file's OperationOutcome (line/column in the standard
                               operationoutcome-issue-line/-col extensions)
                             junit: JUnit XML, one testcase per file (failure = issues at the threshold,
                               error = unreadable file)
                             sarif: SARIF 2.1.0 for code-scanning services
          --fail-on LEVEL    error (default) or warning: the least severity that fails the run
          --quiet, -q        text: print only the issues at or above the threshold; no progress line

        Exit codes: 0 nothing at or above the threshold, 1 something is, 2 usage error or unreadable input
        (not JSON/XML, not a FHIR resource, or a fatal issue from the validator such as an unknown resourceType).
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = ValidateArguments.Parse(arguments, out var usageError);
        if (parsed is null)
            return UsageError(context, usageError!);

        var expansion = ValidateInputs.Expand(parsed.Inputs, context.WorkingDirectory);
        if (expansion.Errors.Count > 0)
        {
            foreach (var error in expansion.Errors)
                context.Error.WriteLine($"fhircase validate: {error}");
            return ExitCodes.UsageOrInputError;
        }

        IResourceValidator validator;
        try
        {
            validator = await createValidator(parsed.Packages.Select(context.ResolvePath).ToList(), parsed.Profiles, cancellationToken).ConfigureAwait(false);
        }
        catch (ValidateSetupException e)
        {
            context.Error.WriteLine($"fhircase validate: {e.Message}");
            return ExitCodes.UsageOrInputError;
        }

        // The command line judges as the HL7 reference validator does (issue 13): an unknown extension is an error outside HL7's namespace.
        var checker = new ValidateFileChecker(validator, ValidationOptions.Reference with { Profiles = parsed.Profiles });
        var progress = ValidateProgress.For(context.Error, errorIsTerminal(), parsed.Quiet, expansion.Files.Count);
        var checkedFiles = await CheckAllAsync(checker, expansion.Files, progress, cancellationToken).ConfigureAwait(false);

        var skippedInputs = expansion.Files.Where((_, index) => checkedFiles[index] is null).ToList();
        var skipped = skippedInputs.Select(f => f.DisplayPath).ToList();
        var results = checkedFiles.OfType<ValidatedFile>().ToList();
        // An incremental export with no changes is a folder holding only its Bulk Data manifest: a clean, empty result,
        // not a usage error, so `fhircase export` then `fhircase validate DIR` passes when nothing changed.
        if (results.Count == 0 && skippedInputs.Count > 0 && skippedInputs.All(f => IsEmptyExportManifest(f.FullPath)))
        {
            if (!parsed.Quiet)
                context.Error.WriteLine("fhircase validate: the bulk export manifest lists no files; nothing to validate");
        }
        else if (results.Count == 0)
        {
            context.Error.WriteLine($"fhircase validate: no FHIR resource among the {Plural(skipped.Count, "file")} found");
            return ExitCodes.UsageOrInputError;
        }
        if (skipped.Count > 0 && !parsed.Quiet)
            context.Error.WriteLine($"fhircase validate: skipped {Plural(skipped.Count, "file")} found by search that hold no FHIR resource (first: {skipped[0]})");

        var report = new ValidationReport(results, parsed.FailOn);
        var formatter = ReportFormatters.ForName(parsed.Format, parsed.Quiet, ToolVersion())!;
        await context.Out.WriteAsync(formatter.Format(report)).ConfigureAwait(false);
        await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);

        // Unreadable files also go to stderr, so the reason for exit 2 is visible whatever the output format.
        foreach (var file in results.Where(f => f.Unreadable))
            foreach (var issue in file.Result.Issues.Where(i => i.Severity == OperationOutcome.IssueSeverity.Fatal))
                context.Error.WriteLine($"fhircase validate: {TextReportFormatter.IssueLine(file.Path, issue)}");

        if (results.Any(f => f.Unreadable))
            return ExitCodes.UsageOrInputError;
        return report.FailedFileCount > 0 ? ExitCodes.Findings : ExitCodes.Success;
    }

    /// <summary>Checks the files on all cores; results keep the input order whatever order they finish in.</summary>
    private static async Task<ValidatedFile?[]> CheckAllAsync(ValidateFileChecker checker, IReadOnlyList<ValidateInput> files, ValidateProgress progress, CancellationToken cancellationToken)
    {
        var checkedFiles = new ValidatedFile?[files.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, files.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                checkedFiles[index] = await checker.CheckAsync(files[index], token).ConfigureAwait(false);
                progress.FileDone();
            }).ConfigureAwait(false);
        progress.Finish();
        return checkedFiles;
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private int UsageError(CliContext context, string message)
    {
        context.Error.WriteLine($"fhircase validate: {message}");
        context.Error.WriteLine(Usage);
        return ExitCodes.UsageOrInputError;
    }

    private static string ToolVersion()
    {
        var version = typeof(ValidateCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = version.IndexOf('+');
        return plus > 0 ? version[..plus] : version;
    }

    /// <summary>A Bulk Data manifest (transactionTime + output) whose output list is empty.</summary>
    private static bool IsEmptyExportManifest(string path)
    {
        if (!string.Equals(Path.GetFileName(path), "manifest.json", StringComparison.Ordinal))
            return false;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            return root.ValueKind == System.Text.Json.JsonValueKind.Object
                   && root.TryGetProperty("transactionTime", out _)
                   && root.TryGetProperty("output", out var output)
                   && output.ValueKind == System.Text.Json.JsonValueKind.Array
                   && output.GetArrayLength() == 0;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
