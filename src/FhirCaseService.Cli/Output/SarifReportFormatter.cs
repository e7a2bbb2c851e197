using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;

namespace FhirCaseService.Cli.Output;

/// <summary>
/// SARIF 2.1.0, the static-analysis format code-scanning services ingest. One run whose tool.driver lists one
/// rule per distinct <see cref="ValidationIssue.Rule"/> (ordinal order, so output is reproducible); one result per
/// issue with its level, message, the file as artifactLocation (relative paths kept relative, with '/'), the
/// line/column as region when known, and the FHIRPath expression as a logical location.
/// </summary>
public sealed class SarifReportFormatter(string toolVersion) : IReportFormatter
{
    public const string SchemaUri = "https://json.schemastore.org/sarif-2.1.0.json";
    public const string Version = "2.1.0";
    private const string ToolName = "fhircase";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // Messages quote FHIR values ('<', '&', quotes); keep them readable instead of \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string Format(ValidationReport report)
    {
        var rules = report.Files
            .SelectMany(f => f.Result.Issues)
            .Select(i => i.Rule)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        var ruleIndex = rules.Select((rule, index) => (rule, index)).ToDictionary(p => p.rule, p => p.index, StringComparer.Ordinal);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("$schema", SchemaUri);
            json.WriteString("version", Version);
            json.WriteStartArray("runs");
            json.WriteStartObject();

            json.WriteStartObject("tool");
            json.WriteStartObject("driver");
            json.WriteString("name", ToolName);
            json.WriteString("version", toolVersion);
            json.WriteStartArray("rules");
            foreach (var rule in rules)
            {
                json.WriteStartObject();
                json.WriteString("id", rule);
                json.WriteStartObject("shortDescription");
                json.WriteString("text", RuleDescription(rule));
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();

            json.WriteStartArray("artifacts");
            foreach (var file in report.Files)
            {
                json.WriteStartObject();
                json.WriteStartObject("location");
                json.WriteString("uri", ArtifactUri(file.Path));
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("results");
            for (var fileIndex = 0; fileIndex < report.Files.Count; fileIndex++)
            {
                var file = report.Files[fileIndex];
                foreach (var issue in ValidationReport.InSourceOrder(file))
                    WriteResult(json, issue, file.Path, fileIndex, ruleIndex[issue.Rule]);
            }
            json.WriteEndArray();

            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteResult(Utf8JsonWriter json, ValidationIssue issue, string path, int artifactIndex, int ruleIndex)
    {
        json.WriteStartObject();
        json.WriteString("ruleId", issue.Rule);
        json.WriteNumber("ruleIndex", ruleIndex);
        json.WriteString("level", Level(issue.Severity));
        json.WriteStartObject("message");
        json.WriteString("text", issue.Message);
        json.WriteEndObject();
        json.WriteStartArray("locations");
        json.WriteStartObject();
        json.WriteStartObject("physicalLocation");
        json.WriteStartObject("artifactLocation");
        json.WriteString("uri", ArtifactUri(path));
        json.WriteNumber("index", artifactIndex);
        json.WriteEndObject();
        if (issue.Location.Line is int line)
        {
            json.WriteStartObject("region");
            json.WriteNumber("startLine", line);
            if (issue.Location.Column is int column)
                json.WriteNumber("startColumn", column);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        if (issue.Location.Expression.Length > 0)
        {
            json.WriteStartArray("logicalLocations");
            json.WriteStartObject();
            json.WriteString("fullyQualifiedName", issue.Location.Expression);
            json.WriteString("kind", "element");
            json.WriteEndObject();
            json.WriteEndArray();
        }
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>SARIF has three result levels; fatal and error both stop a pipeline, information is a note.</summary>
    public static string Level(OperationOutcome.IssueSeverity severity) => severity switch
    {
        OperationOutcome.IssueSeverity.Fatal or OperationOutcome.IssueSeverity.Error => "error",
        OperationOutcome.IssueSeverity.Warning => "warning",
        _ => "note",
    };

    /// <summary>
    /// Relative paths stay relative (code-scanning services resolve them against the checkout) with '/' separators
    /// and each segment percent-encoded; absolute paths become file: URIs.
    /// </summary>
    public static string ArtifactUri(string path)
    {
        if (Path.IsPathFullyQualified(path))
            return new Uri(path).AbsoluteUri;
        return string.Join('/', path.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString));
    }

    private static string RuleDescription(string rule) =>
        rule == ValidatedFile.InputRule
            ? "The file could not be read or parsed as FHIR JSON, XML or NDJSON."
            : $"FHIR validation rule '{rule}'.";
}
