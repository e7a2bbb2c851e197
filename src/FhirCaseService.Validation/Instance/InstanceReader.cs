using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using Hl7.Fhir.Validation;

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
        var map = format == ResourceFormat.Json ? JsonSourceMapReader.Deferred(content) : XmlSourceMapReader.Read(content);
        // The source map reader fails exactly on text that is not well-formed XML, which the SDK's reader may still accept.
        if (format == ResourceFormat.Xml && map is null && XmlWellFormedness.Problem(content) is { } notXml)
            return Fatal(notXml, null);
        return ReadStrict(content, format, map);
    }

    /// <summary>
    /// The fast path of <see cref="FhirValidator"/> for JSON: the resource and its source map when the text reads
    /// without a single parser finding, else null (the caller then uses <see cref="Read"/>). The strict parser validates
    /// every primitive it reads through a delayed-validation dictionary keyed by the primitive object, about a third of
    /// a whole validation's time on a clean resource. Here the same strict parse runs without that validator, and the
    /// checks the validator makes on the finished objects (primitive literals and the narrative's XHTML, through the
    /// SDK's own <see cref="Base.ValidateInvariants"/>) and the traces of what it would have reported in the tree
    /// (unknown elements kept as overflow, null list items, resource types the model lacks) are checked in one walk.
    /// What the validator checks beyond that (cardinality, allowed types) the engine checks as errors too, and
    /// <see cref="FhirValidator"/> reads the text again strictly whenever the walk finds an error, so a finding always
    /// comes with the strict parser's wording and position.
    /// </summary>
    internal static ParsedInstance? TryReadClean(string content)
    {
        Resource resource;
        try
        {
            resource = StrictJsonWithoutPocoValidator.DeserializeResource(content);
        }
        // Whatever the failure, the strict parse meets it again and reports it in its own words.
        catch (Exception e) when (e is DeserializationFailedException or System.Text.Json.JsonException or FormatException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
        if (!ModelInfo.IsKnownResource(resource.TypeName))
            return null;
        try
        {
            if (!IsClean(resource))
                return null;
        }
        // The SDK's typed getters throw on values of the wrong shape, which the strict parser reports: read strictly.
        catch (Exception e) when (e is InvalidCastException or FormatException or InvalidOperationException or ArgumentException or CodedValidationException)
        {
            return null;
        }
        // Positions are scanned only if a finding asks for one; the names are checked now, in a pass that records nothing.
        return JsonSourceMapReader.HasOnlyKnownNames(content) ? new ParsedInstance(resource, JsonSourceMapReader.Deferred(content), []) : null;
    }

    private static readonly FhirJsonDeserializer StrictJsonWithoutPocoValidator = new(FhirSerialization.StrictJson.Settings with { Validator = null });

    private static bool IsClean(Base node)
    {
        if (node.HasOverflow || node is Resource && !ModelInfo.IsKnownResource(node.TypeName)
            || node is PrimitiveType { JsonValue: not null } primitive && !HasValidLiteral(primitive)
            || ElementNames.OtherSpellings.TryGetValue(node.GetType(), out var otherSpellings) && Array.Exists(otherSpellings, name => RawElements.Has(node, name)))
            return false;
        foreach (var element in node.EnumerateElements())
        {
            switch (element.Value)
            {
                case Base child when !IsClean(child):
                    return false;
                case IEnumerable<Base?> items:
                    foreach (var item in items)
                    {
                        if (item is null || !IsClean(item))
                            return false;
                    }
                    break;
            }
        }
        return true;
    }

    /// <summary>The literal checks of the strict parser's validator: the SDK's own per type, the narrative as its settings say.</summary>
    private static bool HasValidLiteral(PrimitiveType primitive) => primitive switch
    {
        // A number or boolean where the narrative belongs is the validator's finding too.
        XHtml xhtml => xhtml.JsonValue is string text && FhirSerialization.StrictJson.Settings.NarrativeValidation switch
        {
            NarrativeValidationKind.FhirXhtml => XHtml.IsValidNarrativeXhtml(text, out _, out _),
            NarrativeValidationKind.Xml => XHtml.IsValidXml(text, out _),
            _ => true,
        },
        _ => primitive.HasValidValue(),
    };

    private static ParsedInstance ReadStrict(string content, ResourceFormat format, SourceMap? map)
    {
        try
        {
            var resource = format == ResourceFormat.Json
                ? FhirSerialization.StrictJson.DeserializeResource(content)
                : FhirSerialization.StrictXml.DeserializeResource(content);
            return new ParsedInstance(resource, map, []);
        }
        catch (DeserializationFailedException failure)
        {
            // The findings are placed now. A text the scan cannot read has no map at all, as before the map was deferred
            // (the walk then reports unknown elements itself).
            if (format == ResourceFormat.Json && map is { Count: 0 })
                map = null;
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
