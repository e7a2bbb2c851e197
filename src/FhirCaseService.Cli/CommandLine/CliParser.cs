using System.CommandLine;
using System.CommandLine.Help;
using System.Globalization;
using System.CommandLine.Parsing;

namespace FhirCaseService.Cli.CommandLine;

/// <summary>
/// Parses a command's arguments with System.CommandLine (aliases, --name=value, "--", response files @file) and turns
/// what it finds wrong into the one-line usage errors fhircase has always printed: "unknown option --x",
/// "option --x needs a value", "option --x given more than once", "unexpected argument 'x'". Each command declares its
/// grammar with the factories here (values are strings; each command checks them and words its own errors), so every
/// command reads its command line the same way.
/// </summary>
public static class CliParser
{
    /// <summary>Bundling (-qo) stays off: fhircase never had it, and "-qx" should be an unknown option, not -q plus a file x.</summary>
    private static readonly ParserConfiguration Configuration = new() { EnablePosixBundling = false };

    /// <summary>A command's grammar: its name, a one-line description, a --help/-h option and the given symbols.</summary>
    public static Command Grammar(string name, string description, params Symbol[] symbols)
    {
        var command = new Command(name, description) { new HelpOption() };
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    command.Options.Add(option);
                    break;
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                default:
                    throw new ArgumentException($"a command grammar holds options and arguments, not {symbol.GetType().Name}", nameof(symbols));
            }
        }
        return command;
    }

    /// <summary>A switch that takes no value (--quiet).</summary>
    public static Option<bool> Flag(string name, string description, params string[] aliases) =>
        new(name, aliases) { Arity = ArgumentArity.Zero, Description = description };

    /// <summary>An option with one value, given at most once (--format text).</summary>
    public static Option<string?> Value(string name, string description, params string[] aliases) =>
        new(name, aliases) { Arity = ArgumentArity.ExactlyOne, Description = description };

    /// <summary>An option with one value per occurrence that may be given again (--profile A --profile B).</summary>
    public static Option<string[]> Repeatable(string name, string description, params string[] aliases) =>
        new(name, aliases) { Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false, Description = description };

    /// <summary>The positional values (files, folders); each command says how many it needs.</summary>
    public static Argument<string[]> Positionals(string name, string description) =>
        new(name) { Arity = ArgumentArity.ZeroOrMore, Description = description };

    /// <summary>True when the command line asks for the command's help (-h, --help).</summary>
    public static bool AsksForHelp(Command grammar, IReadOnlyList<string> arguments) =>
        grammar.Parse(arguments, Configuration).Action is HelpAction;

    /// <summary>
    /// Parses <paramref name="arguments"/> against <paramref name="grammar"/>. Returns null with <paramref name="error"/>
    /// set on the first usage error in argument order. <paramref name="unexpectedArgumentHint"/> is added to the message
    /// for a positional value the command does not take (e.g. where the value belongs instead).
    /// </summary>
    public static ParseResult? Parse(Command grammar, IReadOnlyList<string> arguments, out string? error, string? unexpectedArgumentHint = null)
    {
        var result = grammar.Parse(arguments, Configuration);
        error = FirstStructuralError(result, unexpectedArgumentHint)
                ?? result.Errors.Select(e => e.Message).FirstOrDefault();
        return error is null ? result : null;
    }

    /// <summary>A positive number of seconds (fractions allowed), or null when the option was not given.</summary>
    public static bool TryParseSeconds(string? text, string name, out TimeSpan? value, ref string? error)
    {
        value = null;
        if (text is null)
            return true;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            error = $"{name} must be a positive number of seconds (got '{text}')";
            return false;
        }
        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>
    /// Walks the tokens left to right as the hand-written parsers did: an option without its value, a second occurrence
    /// of a single-valued option, a dash word no option answers to, a positional value the command does not take.
    /// </summary>
    private static string? FirstStructuralError(ParseResult result, string? unexpectedArgumentHint)
    {
        var options = result.CommandResult.Children.OfType<OptionResult>().ToList();
        var optionValues = new HashSet<Token>(options.SelectMany(o => o.Tokens), ReferenceEqualityComparer.Instance);
        var positionalValues = new HashSet<Token>(
            result.CommandResult.Children.OfType<ArgumentResult>().SelectMany(a => a.Tokens), ReferenceEqualityComparer.Instance);
        var occurrences = new Dictionary<Option, int>();

        var tokens = result.Tokens;
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (token.Type == TokenType.DoubleDash)
                return null;
            if (token.Type == TokenType.Option)
            {
                var option = options.FirstOrDefault(o => o.Option.Name == token.Value || o.Option.Aliases.Contains(token.Value))?.Option;
                if (option is null || option is HelpOption)
                    continue;
                occurrences[option] = occurrences.GetValueOrDefault(option) + 1;
                if (occurrences[option] > 1 && option.Arity.MaximumNumberOfValues == 1)
                    return $"option {option.Name} given more than once";
                var takesValue = option.Arity.MinimumNumberOfValues > 0;
                var next = i + 1 < tokens.Count ? tokens[i + 1] : null;
                if (takesValue && (next is null || !optionValues.Contains(next) || next.Value.Length == 0))
                    return $"option {option.Name} needs a value";
                continue;
            }
            if (token.Type != TokenType.Argument || optionValues.Contains(token))
                continue;
            if (token.Value.Length > 1 && token.Value[0] == '-')
                return $"unknown option {token.Value}";
            if (!positionalValues.Contains(token))
                return $"unexpected argument '{token.Value}'" + (unexpectedArgumentHint is null ? "" : $" ({unexpectedArgumentHint})");
        }
        return null;
    }
}
