using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;

namespace FhirCaseService.Cli.Commands;

/// <summary>`fhircase summary files... [--json]`: the cohort's headline numbers, computed from FHIR resources only.</summary>
public sealed class SummaryCommand : ICliCommand
{
    private static readonly string[] Flags = ["--json"];

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public string Name => "summary";

    public string Summary => "compute the cohort's headline numbers from FHIR Bundles or NDJSON files";

    public string Usage => """
        usage: fhircase summary <file>... [--json]

        Each file is one FHIR JSON resource (a Bundle contributes its entries) or, when named *.ndjson or
        *.jsonl, one resource per line. Prints a table, or with --json the summary as JSON.
        Exit codes: 0 done, 2 a file cannot be read or parsed, or holds no Patient.
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = CommandArguments.Parse(arguments, [], Flags, new Dictionary<string, string>(), out var error);
        if (parsed is null || parsed.Positionals.Count == 0)
        {
            await context.Error.WriteLineAsync($"fhircase summary: {error ?? "give at least one file"}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var resources = new ResourceSet();
        var failed = false;
        foreach (var path in parsed.Positionals)
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

        if (parsed.HasFlag("--json"))
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(summary, JsonOptions)).ConfigureAwait(false);
        else
            await context.Out.WriteAsync(SummaryTable.Render(summary)).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
