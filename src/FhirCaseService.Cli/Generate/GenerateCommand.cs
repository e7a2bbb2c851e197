using System.Globalization;
using FhirCaseService.CaseSeries.Synthetic;
using FhirCaseService.Cli.Generate;
using FhirCaseService.Cli.Progress;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase generate`: a synthetic cohort shaped like the case series, for benchmarks, tests and demonstrations, written
/// by <see cref="SyntheticCohortWriter"/>. Exit 0 when written, 2 on a usage error or a folder that cannot be written.
/// </summary>
public sealed class GenerateCommand(Func<bool> errorIsTerminal) : ICliCommand
{
    private const int MaxFilesListed = 30;

    /// <summary>The real command: progress redrawn in place only on a terminal.</summary>
    public GenerateCommand()
        : this(() => !Console.IsErrorRedirected)
    {
    }

    public string Name => "generate";

    public System.CommandLine.Command Grammar => GenerateArguments.Grammar;

    public string Summary => "write a synthetic cohort shaped like the case series (transaction Bundles or NDJSON)";

    public string Usage => """
        usage: fhircase generate --patients N [--seed S] --format bundles|ndjson -o|--output DIR [--quiet]

        Writes N synthetic patients shaped like the case series (relapsed B-cell precursor ALL after CAR-T, CD19/CD22
        flow cytometry, inotuzumab ozogamicin cycles, MRD follow-up, allo-HSCT, relapses, follow-up) into DIR: with
        --format bundles one transaction Bundle per patient, with --format ndjson one <Type>.ndjson file per resource
        type (ready for `fhircase import`). Every resource is valid against our profiles and tagged as synthetic; the
        same --seed (default 1) gives byte-identical files. Prints the resources per type and the files written.
          --quiet, -q   no progress on stderr
        Exit codes: 0 written, 2 usage error or DIR cannot be written.
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = GenerateArguments.Parse(arguments, out var usageError);
        if (parsed is null)
        {
            await context.Error.WriteLineAsync($"fhircase generate: {usageError}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var directory = context.ResolvePath(parsed.OutputDirectory);
        var line = new ProgressLine(context.Error, errorIsTerminal(), parsed.Quiet);
        var progress = new GenerateProgress(line, parsed.Cohort.Patients);
        SyntheticCohortSummary summary;
        try
        {
            Directory.CreateDirectory(directory);
            summary = await SyntheticCohortWriter.WriteAsync(parsed.Cohort, parsed.Format, directory, progress, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            line.Message($"fhircase generate: cannot write {parsed.OutputDirectory}: {e.Message}");
            return ExitCodes.UsageOrInputError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            line.Message($"fhircase generate: interrupted; the files in {parsed.OutputDirectory} are incomplete");
            return ExitCodes.UsageOrInputError;
        }
        progress.Finish();

        var writer = context.Out;
        await writer.WriteLineAsync(
            $"generated {summary.ResourceCount.ToString(CultureInfo.InvariantCulture)} resources for {parsed.Cohort.Patients} patients (seed {parsed.Cohort.Seed}) in {summary.Files.Count} files to {parsed.OutputDirectory}").ConfigureAwait(false);
        var width = summary.ResourcesByType.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        foreach (var (type, count) in summary.ResourcesByType.OrderBy(t => t.Key, StringComparer.Ordinal))
            await writer.WriteLineAsync($"  {type.PadRight(width)}  {count.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);
        // A per-type NDJSON folder is a handful of files worth naming; a Bundle per patient may be a hundred thousand.
        if (summary.Files.Count <= MaxFilesListed)
            foreach (var file in summary.Files)
                await writer.WriteLineAsync($"  {Path.GetRelativePath(directory, Path.GetFullPath(file, directory))}").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
