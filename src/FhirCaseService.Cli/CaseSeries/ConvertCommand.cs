using System.CommandLine;
using System.Text;
using FhirCaseService.CaseSeries;
using FhirCaseService.Cli.CommandLine;
using FhirCaseService.CaseSeries.Mapping;

namespace FhirCaseService.Cli.Commands;

/// <summary>`fhircase convert record.json [-o bundle.json]`: case-series file -> FHIR transaction Bundle.</summary>
public sealed class ConvertCommand : ICliCommand
{
    private static readonly Argument<string[]> InputArgument = CliParser.Positionals("case-series.json", "the case-series file");
    private static readonly Option<string?> OutputOption = CliParser.Value("--output", "the Bundle file (default: stdout)", "-o");

    public string Name => "convert";

    public Command Grammar { get; } = CliParser.Grammar("convert", "convert a case-series file to a FHIR transaction Bundle", InputArgument, OutputOption);

    public string Summary => "convert a case-series file (docs/case-series-format.md) to a FHIR transaction Bundle";

    public string Usage => """
        usage: fhircase convert <case-series.json> [-o|--output <bundle.json>]

        Reads one case-series file, checks it, and writes one FHIR R4 transaction Bundle (JSON) to the
        output file, or to stdout without -o. The same input always gives the same bytes.
        Input errors are listed on stderr as file:line:column: field: message [rule]; exit code 2.
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = CliParser.Parse(Grammar, arguments, out var error);
        var inputs = parsed?.GetValue(InputArgument) ?? [];
        if (parsed is null || inputs.Length != 1)
        {
            await context.Error.WriteLineAsync($"fhircase convert: {error ?? "give exactly one case-series file"}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var inputPath = inputs[0];
        byte[] input;
        try
        {
            input = await File.ReadAllBytesAsync(context.ResolvePath(inputPath), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await context.Error.WriteLineAsync($"fhircase convert: cannot read {inputPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var conversion = CaseSeriesConverter.Convert(input);
        if (conversion.Bundle is null)
        {
            foreach (var inputError in conversion.Errors)
                await context.Error.WriteLineAsync($"{inputPath}:{inputError}").ConfigureAwait(false);
            await context.Error.WriteLineAsync($"fhircase convert: {inputPath}: {conversion.Errors.Count} error(s); nothing written.").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var json = CaseSeriesJson.Serialize(conversion.Bundle);
        var outputPath = parsed.GetValue(OutputOption);
        if (outputPath is null)
        {
            await context.Out.WriteAsync(json).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        try
        {
            await File.WriteAllTextAsync(context.ResolvePath(outputPath), json, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await context.Error.WriteLineAsync($"fhircase convert: cannot write {outputPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }
        await context.Error.WriteLineAsync($"fhircase convert: wrote {conversion.Bundle.Entry.Count} entries to {outputPath}").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
