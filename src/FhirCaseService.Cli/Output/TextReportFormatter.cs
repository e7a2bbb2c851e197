using System.Text;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Output;

/// <summary>
/// Human-readable report, grouped by file. Each issue is one line `file:line:col severity expression message [rule]`,
/// the shape compilers use, so editors and CI logs turn it into links. Quiet mode prints only the issue lines at or
/// above the failure threshold: nothing at all when the run passes.
/// </summary>
public sealed class TextReportFormatter(bool quiet) : IReportFormatter
{
    public string Format(ValidationReport report)
    {
        var text = new StringBuilder();
        foreach (var file in report.Files)
        {
            var issues = ValidationReport.InSourceOrder(file)
                .Where(i => !quiet || report.IsAtOrAboveThreshold(i.Severity))
                .ToList();
            if (!quiet)
                text.Append(file.Path).Append(": ").Append(FileVerdict(report, file)).Append('\n');
            foreach (var issue in issues)
                text.Append(IssueLine(file.Path, issue)).Append('\n');
        }
        if (!quiet)
            text.Append('\n').Append(Summary(report)).Append('\n');
        return text.ToString();
    }

    public static string IssueLine(string path, ValidationIssue issue)
    {
        var line = new StringBuilder(path);
        if (issue.Location.Line is int lineNumber)
        {
            line.Append(':').Append(lineNumber);
            if (issue.Location.Column is int column)
                line.Append(':').Append(column);
        }
        line.Append(' ').Append(ValidationReport.SeverityCode(issue.Severity))
            .Append(' ').Append(issue.Location.Expression.Length == 0 ? "-" : issue.Location.Expression)
            .Append(' ').Append(OneLine(issue.Message))
            .Append(" [").Append(issue.Rule).Append(']');
        return line.ToString();
    }

    private static string FileVerdict(ValidationReport report, ValidatedFile file)
    {
        if (file.Unreadable)
            return "unreadable";
        var counts = Counts(
            file.Result.Issues.Count(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal),
            file.Result.Issues.Count(i => i.Severity == OperationOutcome.IssueSeverity.Warning),
            file.Result.Issues.Count(i => i.Severity == OperationOutcome.IssueSeverity.Information));
        var verdict = report.Fails(file) ? "failed" : "ok";
        return counts.Length == 0 ? verdict : $"{verdict} ({counts})";
    }

    private static string Summary(ValidationReport report)
    {
        var failed = report.FailedFileCount;
        var counts = Counts(
            report.Count(OperationOutcome.IssueSeverity.Error) + report.Count(OperationOutcome.IssueSeverity.Fatal),
            report.Count(OperationOutcome.IssueSeverity.Warning),
            report.Count(OperationOutcome.IssueSeverity.Information));
        var threshold = report.FailOn == FailThreshold.Warning ? "warning" : "error";
        return $"{Plural(report.Files.Count, "file")} checked, {failed} failed (fail-on {threshold})"
            + (counts.Length == 0 ? ", no issues" : $": {counts}");
    }

    private static string Counts(int errors, int warnings, int information)
    {
        var parts = new List<string>();
        if (errors > 0) parts.Add(Plural(errors, "error"));
        if (warnings > 0) parts.Add(Plural(warnings, "warning"));
        if (information > 0) parts.Add($"{information} information");
        return string.Join(", ", parts);
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    // A message spread over several lines would break the one-issue-per-line contract that tools parse.
    private static string OneLine(string message) =>
        message.ReplaceLineEndings(" ");
}
