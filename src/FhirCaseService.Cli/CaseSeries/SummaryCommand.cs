using System.CommandLine;
using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Cli.CommandLine;
using FhirCaseService.Cli.Import;

namespace FhirCaseService.Cli.Commands;

/// <summary>`fhircase summary files... [--json]`: the cohort's headline numbers, computed from FHIR resources only.</summary>
public sealed class SummaryCommand : ICliCommand
{
    private static readonly Argument<string[]> FilesArgument = CliParser.Positionals("files", "FHIR JSON resources, Bundles or NDJSON files");
    private static readonly Option<bool> JsonOption = CliParser.Flag("--json", "print the summary as JSON");

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Name => "summary";

    public Command Grammar { get; } = CliParser.Grammar("summary", "compute the cohort's headline numbers from FHIR Bundles or NDJSON files", FilesArgument, JsonOption);

    public string Summary => "compute the cohort's headline numbers from FHIR Bundles or NDJSON files";

    public string Usage => """
        usage: fhircase summary <file|folder>... [--json]

        Each file is one FHIR JSON resource (a Bundle contributes its entries) or, when named *.ndjson or
        *.jsonl, one resource per line (a Bulk Data export, `fhircase generate --format ndjson`). A folder
        stands for its *.ndjson and *.json files, recursively. Any cohort size: patients are summarised a
        bucket at a time through scratch files in TMPDIR, so memory does not grow with the files.
        Prints a table, or with --json the summary as JSON.
        Exit codes: 0 done, 2 a file cannot be read or parsed, or holds no Patient.
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = CliParser.Parse(Grammar, arguments, out var error);
        var files = parsed?.GetValue(FilesArgument) ?? [];
        if (parsed is null || files.Length == 0)
        {
            await context.Error.WriteLineAsync($"fhircase summary: {error ?? "give at least one file"}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var inputs = ImportInputs.Expand(files, context.WorkingDirectory);
        foreach (var inputError in inputs.Errors)
            await context.Error.WriteLineAsync(inputError).ConfigureAwait(false);
        if (inputs.Errors.Count > 0)
            return ExitCodes.UsageOrInputError;

        CohortFileSummaryResult result;
        try
        {
            result = new CohortFileSummary().Summarise(
                inputs.Files.Select(f => new CohortFile(f.DisplayPath, f.FullPath, f.IsNdjson)).ToList(), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The inputs were readable a moment ago, so this is the scratch folder (TMPDIR) or a file that went away.
            await context.Error.WriteLineAsync($"fhircase summary: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
        foreach (var problem in result.Problems)
            await context.Error.WriteLineAsync(problem).ConfigureAwait(false);
        if (result.Summary is not { } summary)
            return ExitCodes.UsageOrInputError;

        var unresolved = result.UnresolvedReferences;
        if (unresolved.Count > 0)
            await context.Error.WriteLineAsync($"fhircase summary: warning: {unresolved.Count} reference(s) point outside the given files (e.g. {unresolved[0]}); counts that depend on them may be low.").ConfigureAwait(false);

        if (summary.Patients == 0)
        {
            await context.Error.WriteLineAsync("fhircase summary: the files hold no Patient resource; nothing to summarise.").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        if (parsed.GetValue(JsonOption))
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(summary, JsonOptions)).ConfigureAwait(false);
        else
            await context.Out.WriteAsync(SummaryTable.Render(summary)).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
