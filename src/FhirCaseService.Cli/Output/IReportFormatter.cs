namespace FhirCaseService.Cli.Output;

/// <summary>Renders a validation report as one document (text, JSON, JUnit XML or SARIF). Implementations are pure and stateless.</summary>
public interface IReportFormatter
{
    string Format(ValidationReport report);
}
