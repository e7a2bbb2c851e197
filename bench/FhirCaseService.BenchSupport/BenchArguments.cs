using System.Globalization;

namespace FhirCaseService.BenchSupport;

/// <summary>
/// The command line a population bench takes: a backend (<c>sqlite</c>, <c>postgres</c> or <c>both</c>, the default),
/// population levels (whole numbers, sorted; 10,000 when none are given), <c>--api path</c> (the service build to run),
/// and the bench's own switches (<c>--x</c>, present or not) and options (<c>--x value</c>).
/// </summary>
public sealed class BenchArguments
{
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    private BenchArguments()
    {
    }

    public string Backend { get; private set; } = "both";

    public IReadOnlyList<int> Levels { get; private set; } = [];

    /// <summary>The service build given with <c>--api</c> (a full path), or null.</summary>
    public string? ApiDll { get; private set; }

    public bool RunsSqlite => Backend is "sqlite" or "both";

    public bool RunsPostgres => Backend is "postgres" or "both";

    /// <param name="switches">The bench's switches, e.g. "--keep".</param>
    /// <param name="options">The bench's options that take the next argument, e.g. "--batch".</param>
    public static BenchArguments Parse(string[] args, IEnumerable<string> switches, IEnumerable<string> options)
    {
        var known = switches.ToHashSet(StringComparer.Ordinal);
        var valued = options.Append("--api").ToHashSet(StringComparer.Ordinal);
        var parsed = new BenchArguments();
        var levels = new List<int>();
        for (var i = 0; i < args.Length; i++)
        {
            if (known.Contains(args[i]))
                parsed._switches.Add(args[i]);
            else if (valued.Contains(args[i]))
                parsed._options[args[i]] = args[++i];
            else if (int.TryParse(args[i], NumberStyles.None, CultureInfo.InvariantCulture, out var level))
                levels.Add(level);
            else
                parsed.Backend = args[i];
        }
        if (levels.Count == 0)
            levels.Add(10_000);
        levels.Sort();
        parsed.Levels = levels;
        parsed.ApiDll = parsed.Option("--api") is { } api ? Path.GetFullPath(api) : null;
        return parsed;
    }

    public bool Has(string @switch) => _switches.Contains(@switch);

    /// <summary>The option's value, or null when it was not given.</summary>
    public string? Option(string name) => _options.GetValueOrDefault(name);
}
