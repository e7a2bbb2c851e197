using System.CommandLine;
using System.Globalization;
using FhirCaseService.CaseSeries.Synthetic;
using FhirCaseService.Cli.CommandLine;

namespace FhirCaseService.Cli.Generate;

/// <summary>The parsed command line of `fhircase generate`; the grammar is <see cref="Grammar"/>.</summary>
public sealed record GenerateArguments(SyntheticCohortOptions Cohort, SyntheticOutputFormat Format, string OutputDirectory, bool Quiet)
{
    private static readonly Option<string?> PatientsOption = CliParser.Value("--patients", "how many patients (1 or more)");
    private static readonly Option<string?> SeedOption = CliParser.Value("--seed", "the same seed gives the same files (default 1)");
    private static readonly Option<string?> FormatOption = CliParser.Value("--format", "bundles (a transaction Bundle per patient) or ndjson (a file per type)");
    private static readonly Option<string?> OutputOption = CliParser.Value("--output", "the folder the files go to", "-o");
    private static readonly Option<bool> QuietOption = CliParser.Flag("--quiet", "no progress on stderr", "-q");

    public static Command Grammar { get; } = CliParser.Grammar(
        "generate", "write a synthetic cohort shaped like the case series",
        PatientsOption, SeedOption, FormatOption, OutputOption, QuietOption);

    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static GenerateArguments? Parse(IReadOnlyList<string> arguments, out string? error)
    {
        var result = CliParser.Parse(Grammar, arguments, out error, "the output folder is given with -o DIR");
        if (result is null)
            return null;

        var patientsText = result.GetValue(PatientsOption);
        if (patientsText is null)
        {
            error = "--patients N is required (how many patients to generate)";
            return null;
        }
        if (!int.TryParse(patientsText, NumberStyles.None, CultureInfo.InvariantCulture, out var patients) || patients < 1)
        {
            error = $"--patients must be a whole number of 1 or more (got '{patientsText}')";
            return null;
        }
        var seedText = result.GetValue(SeedOption);
        var seed = 1;
        if (seedText is not null && !int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seed))
        {
            error = $"--seed must be a whole number (got '{seedText}')";
            return null;
        }
        SyntheticOutputFormat format;
        switch (result.GetValue(FormatOption))
        {
            case "bundles":
                format = SyntheticOutputFormat.Bundles;
                break;
            case "ndjson":
                format = SyntheticOutputFormat.Ndjson;
                break;
            case null:
                error = "--format bundles|ndjson is required (a transaction Bundle per patient, or one NDJSON file per resource type)";
                return null;
            case var other:
                error = $"--format must be bundles or ndjson (got '{other}')";
                return null;
        }
        var output = result.GetValue(OutputOption);
        if (output is null)
        {
            error = "-o DIR is required (the folder the files go to)";
            return null;
        }
        return new GenerateArguments(new SyntheticCohortOptions(patients, seed), format, output, result.GetValue(QuietOption));
    }
}
