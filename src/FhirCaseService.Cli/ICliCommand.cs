using System.CommandLine;

namespace FhirCaseService.Cli;

/// <summary>
/// One `fhircase` sub-command. Implementations live in the folder of their command family (Validate/, Export/,
/// Import/, Generate/, CaseSeries/, Auth/) and are listed once in <see cref="Commands.CommandRegistry.All"/>. They write only to the writers they are given (never to Console),
/// so tests can run them in-process.
/// </summary>
public interface ICliCommand
{
    /// <summary>The word after `fhircase`, e.g. "convert".</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>The usage text printed for `fhircase help NAME`, `fhircase NAME --help` and on usage errors.</summary>
    string Usage { get; }

    /// <summary>The command's System.CommandLine grammar (options, aliases, arguments): parsing and shell completion read it.</summary>
    Command Grammar { get; }

    /// <summary>Runs the command with the arguments after its name; returns one of <see cref="ExitCodes"/>.</summary>
    Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken);
}

/// <summary>Where a command writes and what it resolves relative paths against.</summary>
public sealed record CliContext(TextWriter Out, TextWriter Error, string WorkingDirectory)
{
    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);
}
