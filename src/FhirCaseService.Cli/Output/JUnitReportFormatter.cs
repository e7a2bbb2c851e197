using System.Globalization;
using System.Text;
using System.Xml;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Output;

/// <summary>
/// JUnit XML, the test-report format CI servers display: one testsuite "fhircase validate", one testcase per file
/// (classname = the file's folder, name = the file). A file with issues at or above the threshold has a
/// &lt;failure&gt;; a file that could not be read or parsed has an &lt;error&gt;; issues below the threshold go to
/// &lt;system-out&gt; so they are visible without failing the case. No timestamps, so reports are reproducible.
/// </summary>
public sealed class JUnitReportFormatter : IReportFormatter
{
    private const string SuiteName = "fhircase validate";

    public string Format(ValidationReport report)
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            Encoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            NewLineChars = "\n",
        };
        using var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, settings))
        {
            var errors = report.Files.Count(f => f.Unreadable);
            var failures = report.Files.Count(f => !f.Unreadable && report.Fails(f));
            xml.WriteStartDocument();
            xml.WriteStartElement("testsuites");
            WriteCounts(xml, report.Files.Count, failures, errors);
            xml.WriteStartElement("testsuite");
            WriteCounts(xml, report.Files.Count, failures, errors);
            xml.WriteAttributeString("skipped", "0");
            foreach (var file in report.Files)
                WriteTestCase(xml, report, file);
            xml.WriteEndElement();
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteCounts(XmlWriter xml, int tests, int failures, int errors)
    {
        xml.WriteAttributeString("name", SuiteName);
        xml.WriteAttributeString("tests", tests.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("failures", failures.ToString(CultureInfo.InvariantCulture));
        xml.WriteAttributeString("errors", errors.ToString(CultureInfo.InvariantCulture));
    }

    private static void WriteTestCase(XmlWriter xml, ValidationReport report, ValidatedFile file)
    {
        var slash = file.Path.LastIndexOf('/');
        xml.WriteStartElement("testcase");
        xml.WriteAttributeString("classname", slash < 0 ? "." : file.Path[..slash]);
        xml.WriteAttributeString("name", file.Path);

        var issues = ValidationReport.InSourceOrder(file).ToList();
        var failing = issues.Where(i => report.IsAtOrAboveThreshold(i.Severity)).ToList();
        var others = issues.Where(i => !report.IsAtOrAboveThreshold(i.Severity)).ToList();
        if (file.Unreadable)
        {
            xml.WriteStartElement("error");
            xml.WriteAttributeString("message", failing.First(i => i.Severity == OperationOutcome.IssueSeverity.Fatal).Message);
            xml.WriteAttributeString("type", "unreadable");
            xml.WriteString(Lines(file.Path, failing));
            xml.WriteEndElement();
        }
        else if (failing.Count > 0)
        {
            var errorCount = failing.Count(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
            var warningCount = failing.Count - errorCount;
            xml.WriteStartElement("failure");
            xml.WriteAttributeString("message", FailureMessage(errorCount, warningCount));
            xml.WriteAttributeString("type", errorCount > 0 ? "error" : "warning");
            xml.WriteString(Lines(file.Path, failing));
            xml.WriteEndElement();
        }
        if (others.Count > 0)
            xml.WriteElementString("system-out", Lines(file.Path, others));
        xml.WriteEndElement();
    }

    private static string FailureMessage(int errors, int warnings)
    {
        var parts = new List<string>();
        if (errors > 0) parts.Add(errors == 1 ? "1 error" : $"{errors} errors");
        if (warnings > 0) parts.Add(warnings == 1 ? "1 warning" : $"{warnings} warnings");
        return string.Join(", ", parts);
    }

    private static string Lines(string path, IEnumerable<ValidationIssue> issues) =>
        string.Join("\n", issues.Select(i => TextReportFormatter.IssueLine(path, i)));
}
