using System.CommandLine;
using FhirCaseService.Cli.CommandLine;
using FhirCaseService.Cli.Commands;

namespace FhirCaseService.Cli;

/// <summary>
/// The `fhircase` entry point, callable in-process: tests pass their own writers and read the exit code. Finds the
/// command named by the first argument and hands it the rest; each command parses them with its System.CommandLine
/// <see cref="ICliCommand.Grammar"/>. A first argument in brackets is a System.CommandLine directive over the whole
/// tree, e.g. `fhircase "[suggest:12]" "validate --fo"` for shell completion (dotnet-suggest).
/// </summary>
public static class CliApp
{
    private static readonly RootCommand Tree = BuildTree();

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default) =>
        RunAsync(args, new CliContext(stdout, stderr, Directory.GetCurrentDirectory()), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            WriteCommandList(context.Out);
            return args.Length == 0 ? ExitCodes.UsageOrInputError : ExitCodes.Success;
        }

        if (args[0] == "help")
            return WriteHelp(args.Skip(1).FirstOrDefault(), context);

        if (args[0].StartsWith('['))
            return await Tree.Parse(args).InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellationToken).ConfigureAwait(false);

        var command = Find(args[0]);
        if (command is null)
        {
            context.Error.WriteLine($"fhircase: unknown command '{args[0]}'.");
            WriteCommandList(context.Error);
            return ExitCodes.UsageOrInputError;
        }

        var arguments = args.Skip(1).ToArray();
        if (CliParser.AsksForHelp(command.Grammar, arguments))
        {
            context.Out.WriteLine(command.Usage);
            return ExitCodes.Success;
        }
        return await command.RunAsync(arguments, context, cancellationToken).ConfigureAwait(false);
    }

    private static RootCommand BuildTree()
    {
        var root = new RootCommand("fhircase: validate, convert, summarise, export, import and generate FHIR case-series data");
        foreach (var command in CommandRegistry.All)
            root.Subcommands.Add(command.Grammar);
        return root;
    }

    private static ICliCommand? Find(string name) =>
        CommandRegistry.All.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal));

    private static int WriteHelp(string? name, CliContext context)
    {
        if (name is null)
        {
            WriteCommandList(context.Out);
            return ExitCodes.Success;
        }
        var command = Find(name);
        if (command is null)
        {
            context.Error.WriteLine($"fhircase: unknown command '{name}'.");
            return ExitCodes.UsageOrInputError;
        }
        context.Out.WriteLine(command.Usage);
        return ExitCodes.Success;
    }

    private static void WriteCommandList(TextWriter writer)
    {
        writer.WriteLine("usage: fhircase <command> [arguments]");
        writer.WriteLine();
        writer.WriteLine("commands:");
        var width = CommandRegistry.All.Select(c => c.Name.Length).DefaultIfEmpty(0).Max();
        foreach (var command in CommandRegistry.All.OrderBy(c => c.Name, StringComparer.Ordinal))
            writer.WriteLine($"  {command.Name.PadRight(width)}  {command.Summary}");
        writer.WriteLine();
        writer.WriteLine("fhircase help <command> shows its usage. Exit codes: 0 success, 1 findings, 2 usage or input error.");
    }
}
