namespace FhirCaseService.Cli;

/// <summary>
/// The parsed arguments of one command: positional values, flags (`--json`) and options with a value
/// (`-o file`, `--output file`, `--output=file`). Each command declares what it accepts, so an
/// unknown option is a usage error instead of being silently taken as a file name.
/// </summary>
public sealed class CommandArguments
{
    private readonly IReadOnlyDictionary<string, string> _options;
    private readonly IReadOnlySet<string> _flags;

    private CommandArguments(IReadOnlyList<string> positionals, IReadOnlyDictionary<string, string> options, IReadOnlySet<string> flags)
    {
        Positionals = positionals;
        _options = options;
        _flags = flags;
    }

    public IReadOnlyList<string> Positionals { get; }

    public bool HasFlag(string name) => _flags.Contains(name);

    public string? Option(string name) => _options.TryGetValue(name, out var value) ? value : null;

    /// <summary>
    /// Parses <paramref name="arguments"/>. <paramref name="optionsWithValue"/> and <paramref name="flags"/> list
    /// the accepted spellings; aliases map to the first spelling given in <paramref name="aliases"/> (e.g. "-o" -> "--output").
    /// Returns null and sets <paramref name="error"/> on a usage error.
    /// </summary>
    public static CommandArguments? Parse(
        IReadOnlyList<string> arguments,
        IReadOnlyCollection<string> optionsWithValue,
        IReadOnlyCollection<string> flags,
        IReadOnlyDictionary<string, string> aliases,
        out string? error)
    {
        var positionals = new List<string>();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var setFlags = new HashSet<string>(StringComparer.Ordinal);
        var onlyPositionalsFollow = false;
        error = null;

        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (onlyPositionalsFollow || argument == "-" || !argument.StartsWith('-'))
            {
                positionals.Add(argument);
                continue;
            }
            if (argument == "--")
            {
                onlyPositionalsFollow = true;
                continue;
            }

            var name = argument;
            string? inlineValue = null;
            var equals = argument.IndexOf('=');
            if (argument.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = argument[..equals];
                inlineValue = argument[(equals + 1)..];
            }
            if (aliases.TryGetValue(name, out var canonical))
                name = canonical;

            if (flags.Contains(name) && inlineValue is null)
            {
                setFlags.Add(name);
            }
            else if (optionsWithValue.Contains(name))
            {
                var value = inlineValue ?? (i + 1 < arguments.Count ? arguments[++i] : null);
                if (string.IsNullOrEmpty(value))
                {
                    error = $"option {argument} needs a value";
                    return null;
                }
                if (!options.TryAdd(name, value))
                {
                    error = $"option {name} given more than once";
                    return null;
                }
            }
            else
            {
                error = $"unknown option {argument}";
                return null;
            }
        }
        return new CommandArguments(positionals, options, setFlags);
    }
}
