using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Output;

/// <summary>
/// FHIR JSON report. One file gives its OperationOutcome as is (what the server would answer). Several files give a
/// Bundle of type batch-response, one entry per file in input order, shaped like a server's answer to a batch of
/// validate calls: entry.response.location is the file path, entry.response.status is "200 OK" when nothing reaches
/// the failure threshold, "422 Unprocessable Entity" when something does and "400 Bad Request" when the file could
/// not be read or parsed, and entry.response.outcome is the file's OperationOutcome.
/// </summary>
public sealed class JsonReportFormatter : IReportFormatter
{
    public string Format(ValidationReport report)
    {
        if (report.Files.Count == 1)
            return FhirSerialization.ToJson(Outcome(report.Files[0]), pretty: true) + "\n";

        var bundle = new Bundle { Type = Bundle.BundleType.BatchResponse };
        foreach (var file in report.Files)
        {
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Response = new Bundle.ResponseComponent
                {
                    Status = Status(report, file),
                    Location = file.Path,
                    Outcome = Outcome(file),
                },
            });
        }
        return FhirSerialization.ToJson(bundle, pretty: true) + "\n";
    }

    /// <summary>
    /// The file's OperationOutcome. An issue about the file as a whole (it could not be parsed) has no FHIRPath;
    /// an empty expression string is not a valid FHIR string, so such issues carry no expression at all.
    /// </summary>
    private static OperationOutcome Outcome(ValidatedFile file)
    {
        var outcome = file.Result.ToOperationOutcome();
        foreach (var issue in outcome.Issue)
            issue.Expression = issue.Expression.Where(e => !string.IsNullOrEmpty(e)).ToList();
        return outcome;
    }

    private static string Status(ValidationReport report, ValidatedFile file) =>
        file.Unreadable ? "400 Bad Request"
        : report.Fails(file) ? "422 Unprocessable Entity"
        : "200 OK";
}
