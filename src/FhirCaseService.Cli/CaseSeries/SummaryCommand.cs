using System.CommandLine;
using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Cli.CommandLine;

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
        usage: fhircase summary <file>... [--json]

        Each file is one FHIR JSON resource (a Bundle contributes its entries) or, when named *.ndjson or
        *.jsonl, one resource per line. Prints a table, or with --json the summary as JSON.
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

        var resources = new ResourceSet();
        var failed = false;
        foreach (var path in files)
        {
            string content;
            try
            {
                content = await File.ReadAllTextAsync(context.ResolvePath(path), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await context.Error.WriteLineAsync($"fhircase summary: cannot read {path}: {e.Message}").ConfigureAwait(false);
                failed = true;
                continue;
            }
            foreach (var problem in ResourceFileReader.AddTo(resources, content, ResourceFileReader.IsNdjsonPath(path)))
            {
                await context.Error.WriteLineAsync($"{path}: {problem}").ConfigureAwait(false);
                failed = true;
            }
        }
        if (failed)
            return ExitCodes.UsageOrInputError;

        var unresolved = resources.UnresolvedReferences();
        if (unresolved.Count > 0)
            await context.Error.WriteLineAsync($"fhircase summary: warning: {unresolved.Count} reference(s) point outside the given files (e.g. {unresolved[0]}); counts that depend on them may be low.").ConfigureAwait(false);

        var summary = CohortSummaryCalculator.Compute(resources);
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
