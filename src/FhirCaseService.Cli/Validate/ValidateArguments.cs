using System.CommandLine;
using FhirCaseService.Cli.CommandLine;
using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Validate;

/// <summary>The parsed command line of `fhircase validate`; the grammar is <see cref="Grammar"/>.</summary>
public sealed record ValidateArguments(
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Profiles,
    IReadOnlyList<string> Packages,
    string Format,
    FailThreshold FailOn,
    bool Quiet)
{
    private static readonly Argument<string[]> InputsArgument = CliParser.Positionals("inputs", "files, directories or glob patterns to validate");
    private static readonly Option<string[]> ProfileOption = CliParser.Repeatable("--profile", "also validate every resource against this profile");
    private static readonly Option<string[]> PackageOption = CliParser.Repeatable("--package", "load a FHIR package (folder or .tgz) beside core and ours");
    private static readonly Option<string?> FormatOption = CliParser.Value("--format", "text, json, junit or sarif");
    private static readonly Option<string?> FailOnOption = CliParser.Value("--fail-on", "error or warning: the least severity that fails the run");
    private static readonly Option<bool> QuietOption = CliParser.Flag("--quiet", "only the issues at or above the threshold; no progress", "-q");

    public static Command Grammar { get; } = CliParser.Grammar(
        "validate", "validate FHIR JSON/XML/NDJSON files against core R4, our profiles and any package",
        InputsArgument, ProfileOption, PackageOption, FormatOption, FailOnOption, QuietOption);

    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static ValidateArguments? Parse(IReadOnlyList<string> arguments, out string? error)
    {
        var result = CliParser.Parse(Grammar, arguments, out error);
        if (result is null)
            return null;

        var format = result.GetValue(FormatOption) ?? "text";
        if (!ReportFormatters.Names.Contains(format))
        {
            error = $"--format must be one of {string.Join(", ", ReportFormatters.Names)} (got '{format}')";
            return null;
        }
        var failOn = result.GetValue(FailOnOption);
        FailThreshold threshold;
        switch (failOn ?? "error")
        {
            case "error":
                threshold = FailThreshold.Error;
                break;
            case "warning":
                threshold = FailThreshold.Warning;
                break;
            default:
                error = $"--fail-on must be error or warning (got '{failOn}')";
                return null;
        }
        var inputs = result.GetValue(InputsArgument) ?? [];
        if (inputs.Length == 0)
        {
            error = "no files given: name files, directories or glob patterns to validate";
            return null;
        }
        return new ValidateArguments(inputs, result.GetValue(ProfileOption) ?? [], result.GetValue(PackageOption) ?? [], format, threshold, result.GetValue(QuietOption));
    }
}
