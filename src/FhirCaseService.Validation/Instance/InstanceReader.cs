using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;

namespace FhirCaseService.Validation.Instance;

/// <summary>A finding of the SDK's strict parser, placed on an element of the source map.</summary>
public sealed record ParseIssue(ValidationIssue Issue, string? SourceKey);

/// <summary>The SDK object parsed from text (possibly partial), where its elements are, and what the parser objected to.</summary>
public sealed record ParsedInstance(Resource? Resource, SourceMap? SourceMap, IReadOnlyList<ParseIssue> Issues);

/// <summary>
/// Parses JSON or XML with the SDK's strict deserializer (unknown elements, wrong JSON types, bad primitive literals
/// are its findings) and scans the same text for element positions.
/// </summary>
public static class InstanceReader
{
    /// <summary>
    /// Parser findings the engine makes itself, with better locations: minimum cardinality (PVAL105, which the SDK
    /// places at "$this") and codes outside a required enumeration (PVAL116, the engine's binding check).
    /// </summary>
    private static readonly HashSet<string> EngineOwnChecks = new(StringComparer.Ordinal) { "PVAL105", "PVAL116" };

    public static ParsedInstance Read(string content, ResourceFormat format)
    {
        ArgumentNullException.ThrowIfNull(content);
        var map = format == ResourceFormat.Json ? JsonSourceMapReader.Read(content) : XmlSourceMapReader.Read(content);
        try
        {
            var resource = format == ResourceFormat.Json
                ? FhirSerialization.StrictJson.DeserializeResource(content)
                : FhirSerialization.StrictXml.DeserializeResource(content);
            return new ParsedInstance(resource, map, []);
        }
        catch (DeserializationFailedException failure)
        {
            // The parser may report one element twice ("an object needs a property" and "empty element"): keep the first.
            var issues = failure.Exceptions
                .Where(e => e is not ExtendedCodedException coded || !EngineOwnChecks.Contains(coded.ErrorCode) && !IsEmptyResourceRoot(coded))
                .Select(e => ToIssue(e, map)).DistinctBy(i => i.SourceKey ?? i.Issue.Message).ToList();
            if (failure.PartialResult is not Resource partial || !ModelInfo.IsKnownResource(partial.TypeName))
            {
                // Without a known resource type nothing else can be judged; the parser's own words say what it saw.
                var reason = failure.Exceptions.OfType<ExtendedCodedException>().FirstOrDefault(e => e.ErrorCode is not "PVAL128")?.BaseErrorMessage ?? failure.Message;
                return Fatal(reason, map);
            }
            return new ParsedInstance(partial, map, issues);
        }
        catch (System.Text.Json.JsonException e)
        {
            return Fatal(e.Message, map);
        }
        catch (System.Xml.XmlException e)
        {
            return Fatal(e.Message, map);
        }
        // The SDK's XML reader throws this for some primitive forms it cannot map (seen on integer values).
        catch (NotSupportedException e)
        {
            return Fatal(e.Message, map);
        }
        // Not FHIR at all (not JSON, a JSON array, no resourceType...): the SDK reports these as format exceptions.
        catch (FormatException e)
        {
            return Fatal(e.Message, map);
        }
        catch (InvalidOperationException e)
        {
            return Fatal(e.Message, map);
        }
    }

    /// <summary>
    /// The SDK calls a resource with nothing but its type an empty object (JSON120, PVAL129 at its root); a resource is
    /// not an element and ele-1 does not apply to it, so such a resource is valid as far as emptiness goes.
    /// </summary>
    private static bool IsEmptyResourceRoot(ExtendedCodedException coded) =>
        coded.ErrorCode is "JSON120" or "PVAL129" && coded.InstancePath is "$this";

    private static ParsedInstance Fatal(string message, SourceMap? map)
    {
        var issue = new ValidationIssue(OperationOutcome.IssueSeverity.Fatal, OperationOutcome.IssueType.Structure,
            $"The content cannot be read as a FHIR resource: {message}", new IssueLocation("(document)", 1, 1), "structure");
        return new ParsedInstance(null, map, [new ParseIssue(issue, null)]);
    }

    private static ParseIssue ToIssue(Exception exception, SourceMap? map)
    {
        if (exception is not ExtendedCodedException coded)
        {
            var generic = new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure, exception.Message,
                new IssueLocation("(document)"), "structure");
            return new ParseIssue(generic, null);
        }
        var line = (int)(coded.LineNumber ?? 0);
        var column = (int)(coded.Position ?? 0);
        var key = coded.InstancePath is { } instancePath ? map?.KeyForParserPath(instancePath) : null;
        var position = key is null ? null : map!.Find(key);
        var rule = coded.ErrorCode switch
        {
            "PVAL128" => "unknown-element",
            "PVAL123" or "PVAL124" => "primitive-format",
            _ => "structure",
        };
        var issue = new ValidationIssue(
            coded.IssueSeverity == OperationOutcome.IssueSeverity.Warning ? OperationOutcome.IssueSeverity.Warning : OperationOutcome.IssueSeverity.Error,
            rule == "primitive-format" ? OperationOutcome.IssueType.Value : OperationOutcome.IssueType.Structure,
            coded.BaseErrorMessage ?? coded.Message,
            // A finding without an element path (a resource with no resourceType deep inside) is about the document.
            new IssueLocation(string.IsNullOrEmpty(coded.InstancePath) ? "(document)" : coded.InstancePath, position?.Line ?? line, position?.Column ?? column),
            rule);
        return new ParseIssue(issue, key);
    }
}
