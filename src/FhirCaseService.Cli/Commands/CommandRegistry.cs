namespace FhirCaseService.Cli.Commands;

/// <summary>
/// REGISTRATION POINT for `fhircase` commands. To add one: write a sealed class implementing
/// <see cref="ICliCommand"/> in Commands/XxxCommand.cs (namespace FhirCaseService.Cli.Commands) and add
/// one line `new XxxCommand(),` below. Dispatch, `fhircase help` and `fhircase help xxx` all read this list.
/// </summary>
public static class CommandRegistry
{
    public static IReadOnlyList<ICliCommand> All { get; } =
    [
        new ConvertCommand(),
        new ExportCommand(),
        new GenerateCommand(),
        new ImportCommand(),
        new JwksCommand(),
        new SummaryCommand(),
        new TokenCommand(),
        new ValidateCommand(),
    ];
}
