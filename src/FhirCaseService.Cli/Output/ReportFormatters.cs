namespace FhirCaseService.Cli.Output;

/// <summary>The `--format` values of `fhircase validate` and the formatter behind each.</summary>
public static class ReportFormatters
{
    public static IReadOnlyList<string> Names { get; } = ["text", "json", "junit", "sarif"];

    /// <summary>Returns the formatter for <paramref name="name"/>, or null when the name is not one of <see cref="Names"/>.</summary>
    public static IReportFormatter? ForName(string name, bool quiet, string toolVersion) => name switch
    {
        "text" => new TextReportFormatter(quiet),
        "json" => new JsonReportFormatter(),
        "junit" => new JUnitReportFormatter(),
        "sarif" => new SarifReportFormatter(toolVersion),
        _ => null,
    };
}
