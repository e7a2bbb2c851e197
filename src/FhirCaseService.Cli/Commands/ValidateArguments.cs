using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// The parsed command line of `fhircase validate`. Parsed here rather than with <see cref="CommandArguments"/>
/// because --profile and --package may be repeated.
/// </summary>
public sealed record ValidateArguments(
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Profiles,
    IReadOnlyList<string> Packages,
    string Format,
    FailThreshold FailOn,
    bool Quiet)
{
    /// <summary>Returns the arguments, or null with <paramref name="error"/> set on a usage error.</summary>
    public static ValidateArguments? Parse(IReadOnlyList<string> arguments, out string? error)
    {
        var inputs = new List<string>();
        var profiles = new List<string>();
        var packages = new List<string>();
        string? format = null;
        string? failOn = null;
        var quiet = false;
        var onlyInputsFollow = false;
        error = null;

        for (var i = 0; i < arguments.Count; i++)
        {
            var argument = arguments[i];
            if (onlyInputsFollow || !argument.StartsWith('-') || argument == "-")
            {
                inputs.Add(argument);
                continue;
            }
            if (argument == "--")
            {
                onlyInputsFollow = true;
                continue;
            }
            if (argument == "--quiet" || argument == "-q")
            {
                quiet = true;
                continue;
            }

            var equals = argument.IndexOf('=');
            var name = equals > 0 ? argument[..equals] : argument;
            if (name is not ("--profile" or "--package" or "--format" or "--fail-on"))
            {
                error = $"unknown option {argument}";
                return null;
            }
            var value = equals > 0 ? argument[(equals + 1)..] : i + 1 < arguments.Count ? arguments[++i] : null;
            if (string.IsNullOrEmpty(value))
            {
                error = $"option {name} needs a value";
                return null;
            }
            switch (name)
            {
                case "--profile":
                    profiles.Add(value);
                    break;
                case "--package":
                    packages.Add(value);
                    break;
                case "--format" when format is not null:
                case "--fail-on" when failOn is not null:
                    error = $"option {name} given more than once";
                    return null;
                case "--format":
                    format = value;
                    break;
                default:
                    failOn = value;
                    break;
            }
        }

        format ??= "text";
        if (!ReportFormatters.Names.Contains(format))
        {
            error = $"--format must be one of {string.Join(", ", ReportFormatters.Names)} (got '{format}')";
            return null;
        }
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
        if (inputs.Count == 0)
        {
            error = "no files given: name files, directories or glob patterns to validate";
            return null;
        }
        return new ValidateArguments(inputs, profiles, packages, format, threshold, quiet);
    }
}
