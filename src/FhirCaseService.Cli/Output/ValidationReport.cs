using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Output;

/// <summary>The least severity that makes `fhircase validate` fail (exit 1): the `--fail-on` option.</summary>
public enum FailThreshold { Error, Warning }

/// <summary>
/// One input file and what validating it found. <paramref name="Unreadable"/> marks a file that could not be read
/// or parsed at all: its result then holds one fatal issue saying why, and the run exits 2 instead of 1.
/// </summary>
public sealed record ValidatedFile(string Path, ValidationResult Result, bool Unreadable = false)
{
    /// <summary>Rule id of the issue that stands for a file we could not read or parse.</summary>
    public const string InputRule = "input";

    public static ValidatedFile UnreadableInput(string path, string message, int? line = null, int? column = null) =>
        new(path,
            new ValidationResult([new ValidationIssue(
                OperationOutcome.IssueSeverity.Fatal,
                OperationOutcome.IssueType.Structure,
                message,
                new IssueLocation(string.Empty, line, column),
                InputRule)]),
            Unreadable: true);
}

/// <summary>
/// Everything a formatter needs: the files in the order they were given and the failure threshold.
/// Formatters are pure functions of this value, so the same report always renders to the same text.
/// </summary>
public sealed record ValidationReport(IReadOnlyList<ValidatedFile> Files, FailThreshold FailOn)
{
    public bool IsAtOrAboveThreshold(OperationOutcome.IssueSeverity severity) => severity switch
    {
        OperationOutcome.IssueSeverity.Fatal or OperationOutcome.IssueSeverity.Error => true,
        OperationOutcome.IssueSeverity.Warning => FailOn == FailThreshold.Warning,
        _ => false,
    };

    /// <summary>A file fails when it is unreadable or has an issue at or above the threshold.</summary>
    public bool Fails(ValidatedFile file) => file.Unreadable || file.Result.Issues.Any(i => IsAtOrAboveThreshold(i.Severity));

    public int FailedFileCount => Files.Count(Fails);

    public int Count(OperationOutcome.IssueSeverity severity) =>
        Files.Sum(f => f.Result.Issues.Count(i => i.Severity == severity));

    /// <summary>Issues of one file ordered by position (issues without a position last), keeping the engine's order among equals.</summary>
    public static IEnumerable<ValidationIssue> InSourceOrder(ValidatedFile file) =>
        file.Result.Issues
            .OrderBy(i => i.Location.Line ?? int.MaxValue)
            .ThenBy(i => i.Location.Column ?? int.MaxValue);

    /// <summary>The lower-case FHIR code of a severity ("fatal", "error", "warning", "information").</summary>
    public static string SeverityCode(OperationOutcome.IssueSeverity severity) => severity switch
    {
        OperationOutcome.IssueSeverity.Fatal => "fatal",
        OperationOutcome.IssueSeverity.Error => "error",
        OperationOutcome.IssueSeverity.Warning => "warning",
        _ => "information",
    };
}
