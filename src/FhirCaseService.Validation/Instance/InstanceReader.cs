using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using Hl7.Fhir.Validation;

namespace FhirCaseService.Validation.Instance;

/// <summary>A finding of the reading (mostly the SDK's strict parser), placed on an element of the source map.</summary>
/// <param name="SourceKey">The element the finding is about: the walk does not judge that element again.</param>
/// <param name="ReferenceKey">
/// The element the HL7 reference validator's parser reports the finding on, when that is not <paramref name="SourceKey"/>:
/// the parent of an unknown element, the primitive holding an unreadable one, the object holding an empty array.
/// </param>
/// <param name="ChildName">The name of the element the finding is about below <paramref name="ReferenceKey"/>, where the
/// element itself never became part of the instance (an empty array): the finding names it in every mode.</param>
/// <param name="FromXmlStructure">A finding about the shape of the XML (unknown elements and attributes, text, empty
/// elements), which the reference validator's XML parser reports with the element's XML path.</param>
/// <param name="ParserCode">The SDK parser's error code (PVAL129, JSON121...); null for findings the reading makes itself.</param>
public sealed record ParseIssue(ValidationIssue Issue, string? SourceKey, string? ReferenceKey = null, string? ChildName = null, bool FromXmlStructure = false,
    string? ParserCode = null);

/// <summary>The SDK object parsed from text (possibly partial), where its elements are, and what the parser objected to.</summary>
public sealed record ParsedInstance(Resource? Resource, SourceMap? SourceMap, IReadOnlyList<ParseIssue> Issues);

/// <summary>
/// Parses JSON or XML with the SDK's strict deserializer (unknown elements, wrong JSON types, bad primitive literals
/// are its findings) and scans the same text for element positions.
/// </summary>
public static partial class InstanceReader
{
    /// <summary>
    /// Parser findings the engine makes itself, with better locations: minimum cardinality (PVAL105, which the SDK
    /// places at "$this") and codes outside a required enumeration (PVAL116, the engine's binding check).
    /// </summary>
    private static readonly HashSet<string> EngineOwnChecks = new(StringComparer.Ordinal) { "PVAL105", "PVAL116" };

    public static ParsedInstance Read(string content, ResourceFormat format)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (format == ResourceFormat.Json)
            return ReadStrict(content, format, JsonSourceMapReader.Deferred(content));
        var scan = XmlSourceMapReader.Read(content);
        // The source map reader fails exactly on text that is not well-formed XML, which the SDK's reader may still accept.
        if (scan is null)
            return XmlWellFormedness.Problem(content) is { } notXml ? Fatal(notXml, null) : ReadStrict(content, format, null);
        if (scan.Unreadable.Count == 0)
            return ReadStrict(content, format, scan.Map);
        return ReadWithoutUnreadable(content, scan);
    }

    /// <summary>
    /// XML with elements the SDK's reader cannot map (see <see cref="UnreadableXmlElement"/>): each is reported where the
    /// reference validator's parser reports it (an undefined element on the primitive holding it), blanked out of the
    /// text, and the rest is read as usual, so one such element no longer makes the whole document unreadable. The
    /// primitive left without its content is then judged by the walk (ele-1, a primitive without value or extensions), as
    /// the reference validator judges it, instead of by the parser's "empty element".
    /// </summary>
    private static ParsedInstance ReadWithoutUnreadable(string content, XmlScan scan)
    {
        var parsed = ReadStrict(XmlSourceMapReader.Without(content, scan.Unreadable), ResourceFormat.Xml, scan.Map);
        var emptied = scan.Unreadable.Select(u => u.ParentKey).ToHashSet(StringComparer.Ordinal);
        var own = scan.Unreadable.Select(u => new ParseIssue(
            new ValidationIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                $"Element '{u.Name}' is not defined here: a primitive's value is written as its value attribute, so this element was not read.",
                new IssueLocation(u.ParentKey, u.Position.Line, u.Position.Column), "unknown-element"),
            u.Key, ReferenceKey: u.ParentKey, ChildName: u.Name, FromXmlStructure: true));
        var issues = own.Concat(parsed.Issues.Where(i => !(i.ParserCode == EmptyElementCode && i.SourceKey is { } key && emptied.Contains(key)))).ToList();
        return parsed with { Issues = issues };
    }

    /// <summary>
    /// What a finding on an element is about, for reporting each problem of the element once: the parser's two words for
    /// an empty element (JSON120, PVAL129) are one problem, any other finding is its own.
    /// </summary>
    private static string ProblemOf(ParseIssue issue) =>
        issue.ParserCode is "JSON120" or EmptyElementCode ? "empty" : $"{issue.ParserCode}|{issue.Issue.Message}";

    /// <summary>The SDK's "empty FHIR elements are invalid".</summary>
    private const string EmptyElementCode = "PVAL129";

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
    /// comes with the strict parser's wording and position. Public for the bulk import, which validates what this returns
    /// and reads the text strictly (<see cref="Read"/>) when the validation finds an error, as <see cref="FhirValidator"/> does.
    /// </summary>
    public static ParsedInstance? TryReadClean(string content) => TryReadClean(content, minimumSplitEntries: 0, degree: 1);

    /// <summary>
    /// <see cref="TryReadClean(string)"/>, with a JSON Bundle of at least <paramref name="minimumSplitEntries"/> entries
    /// (0: never) read by <paramref name="degree"/> workers, entry by entry (<see cref="TryReadBundleEntriesOnWorkers"/>).
    /// </summary>
    internal static ParsedInstance? TryReadClean(string content, int minimumSplitEntries, int degree)
    {
        ArgumentNullException.ThrowIfNull(content);
        switch (TryReadBundleEntriesOnWorkers(content, minimumSplitEntries, degree, out var bundle))
        {
            case SplitRead.Clean:
                return new ParsedInstance(bundle, JsonSourceMapReader.Deferred(content), []);
            case SplitRead.Unclean:
                return null;
        }
        Resource? resource = null;
        bool namesKnown;
        if (content.Length >= BigText)
        {
            // The name check reads only the text: on a big text it runs on another core while the SDK parses.
            var names = false;
            Parallel.Invoke(() => resource = TryDeserialize(content), () => names = JsonSourceMapReader.HasOnlyKnownNames(content));
            namesKnown = names;
        }
        else
        {
            resource = TryDeserialize(content);
            namesKnown = resource is not null && JsonSourceMapReader.HasOnlyKnownNames(content);
        }
        if (resource is null || !namesKnown || !ModelInfo.IsKnownResource(resource.TypeName))
            return null;
        try
        {
            if (!IsCleanRoot(resource))
                return null;
        }
        // The SDK's typed getters throw on values of the wrong shape, which the strict parser reports: read strictly.
        catch (Exception e) when (IsReadStrictlyFailure(e))
        {
            return null;
        }
        // Positions are scanned only if a finding asks for one.
        return new ParsedInstance(resource, JsonSourceMapReader.Deferred(content), []);
    }

    /// <summary>Texts from this size on (UTF-16 characters, 1 MiB) have their names checked beside the SDK's parse.</summary>
    private const int BigText = 1 << 20;

    /// <summary>Bundles with this many entries have their entries' literals checked on every core.</summary>
    private const int BigBundleEntries = 1_000;

    /// <summary>
    /// Whether the parsed resource shows no trace of what the strict parser would report (<see cref="IsClean"/>); a Bundle
    /// with <paramref name="bigBundleEntries"/> entries or more is checked entry by entry in parallel (a parameter for the
    /// tests that compare both ways).
    /// </summary>
    internal static bool IsCleanRoot(Resource resource, int bigBundleEntries = BigBundleEntries) =>
        resource is Bundle bundle && bundle.Entry.Count >= bigBundleEntries ? IsCleanBigBundle(bundle) : IsClean(resource);

    /// <summary>The SDK's strict parse without its POCO validator (null when it fails).</summary>
    internal static Resource? TryDeserialize(string content)
    {
        try
        {
            return StrictJsonWithoutPocoValidator.DeserializeResource(content);
        }
        // Whatever the failure, the strict parse meets it again and reports it in its own words.
        catch (Exception e) when (IsReadFailure(e))
        {
            return null;
        }
    }

    /// <summary>The SDK's typed getters throw these on values of the wrong shape, which the strict parser reports.</summary>
    private static bool IsReadStrictlyFailure(Exception e) =>
        e is InvalidCastException or FormatException or InvalidOperationException or ArgumentException or CodedValidationException;

    /// <summary>
    /// <see cref="IsClean"/> of a big Bundle: the Bundle's own elements here, its entries in parallel. A failure of one
    /// entry's typed getters is that entry's "not clean", as it is the whole Bundle's in <see cref="TryReadClean"/>.
    /// </summary>
    private static bool IsCleanBigBundle(Bundle bundle)
    {
        if (!IsCleanNode(bundle))
            return false;
        foreach (var element in bundle.EnumerateElements())
        {
            if (element.Key != "entry" && !IsCleanValue(element.Value))
                return false;
        }
        var entries = bundle.Entry;
        var clean = true;
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, entries.Count, 256), (range, state) =>
        {
            for (var index = range.Item1; index < range.Item2 && !state.ShouldExitCurrentIteration; index++)
            {
                bool entryClean;
                try
                {
                    entryClean = entries[index] is { } entry && IsClean(entry);
                }
                catch (Exception e) when (IsReadStrictlyFailure(e))
                {
                    entryClean = false;
                }
                if (!entryClean)
                {
                    clean = false;
                    state.Stop();
                }
            }
        });
        return clean;
    }

    /// <summary>
    /// The shared strict settings, except for the narrative: the walk judges the XHTML (<see cref="NarrativeXhtmlRules"/>,
    /// txt-1, txt-2) as the reference validator does. The SDK's own check runs the FHIR narrative schema, whose attribute
    /// datatypes and content models are stricter than the reference validator (an id that is not an xs:ID), and its
    /// finding used to stand in for the walk's (a script element was a schema finding instead of txt-1).
    /// </summary>
    private static readonly DeserializerSettings Settings = FhirSerialization.StrictJson.Settings with
    {
        NarrativeValidation = NarrativeValidationKind.None,
        Validator = new UriLiteralsLeftToWalk(FhirSerialization.StrictJson.Settings.Validator ?? FhirAttributeValidator.Default),
    };

    private static readonly FhirJsonDeserializer StrictJson = new(Settings);

    private static readonly FhirXmlDeserializer StrictXml = new(Settings);

    private static readonly FhirJsonDeserializer StrictJsonWithoutPocoValidator = new(Settings with { Validator = null });

    private static bool IsClean(Base node)
    {
        if (!IsCleanNode(node))
            return false;
        foreach (var element in node.EnumerateElements())
        {
            if (!IsCleanValue(element.Value))
                return false;
        }
        return true;
    }

    /// <summary>The node's own traces of what the strict parser would report: overflow, an unknown type, a bad literal, a second spelling.</summary>
    private static bool IsCleanNode(Base node) =>
        !(node.HasOverflow || node is Resource && !ModelInfo.IsKnownResource(node.TypeName)
          || node is PrimitiveType { JsonValue: not null } primitive && !HasValidLiteral(primitive)
          || ElementNames.OtherSpellings.TryGetValue(node.GetType(), out var otherSpellings) && HasAny(node, otherSpellings));

    // A loop, not Array.Exists with a lambda: the lambda's closure over the node was made on every call, for every node.
    private static bool HasAny(Base node, string[] names)
    {
        foreach (var name in names)
        {
            if (RawElements.Has(node, name))
                return true;
        }
        return false;
    }

    private static bool IsCleanValue(object? value)
    {
        switch (value)
        {
            case Base child:
                return IsClean(child);
            // Indexed, so a List<T>'s enumerator is not boxed for every list of every node.
            case IReadOnlyList<Base?> list:
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is not { } item || !IsClean(item))
                        return false;
                }
                return true;
            case IEnumerable<Base?> items:
                foreach (var item in items)
                {
                    if (item is null || !IsClean(item))
                        return false;
                }
                return true;
            default:
                return true;
        }
    }

    /// <summary>The literal checks of the strict parser's validator: the SDK's own per type, ours for uri, url and canonical (<see cref="UriLiteralsLeftToWalk"/>); the narrative's content is the walk's.</summary>
    private static bool HasValidLiteral(PrimitiveType primitive) => primitive switch
    {
        // A number or boolean where the narrative belongs is the validator's finding.
        XHtml xhtml => xhtml.JsonValue is string,
        _ when UriLiteralsLeftToWalk.IsUriLiteral(primitive) => Primitives.PrimitiveFormats.Check(primitive.TypeName, (string)primitive.JsonValue!) is null,
        _ => primitive.HasValidValue(),
    };

    private static ParsedInstance ReadStrict(string content, ResourceFormat format, SourceMap? map)
    {
        try
        {
            var resource = format == ResourceFormat.Json
                ? StrictJson.DeserializeResource(content)
                : StrictXml.DeserializeResource(content);
            return new ParsedInstance(resource, map, []);
        }
        catch (DeserializationFailedException failure)
        {
            // The findings are placed now. A text the scan cannot read has no map at all, as before the map was deferred
            // (the walk then reports unknown elements itself).
            if (format == ResourceFormat.Json && map is { Count: 0 })
                map = null;
            // The parser may report one element twice ("an object needs a property" and "empty element"): keep the first.
            // Different problems of one element (out of order and an invalid literal) are each reported.
            var issues = failure.Exceptions
                .Where(e => e is not ExtendedCodedException coded || !EngineOwnChecks.Contains(coded.ErrorCode) && !IsEmptyResourceRoot(coded))
                .Select(e => ToIssue(e, map, format)).ToList();
            // An unknown element is also "empty" when it has no FHIR content the SDK could keep: it is reported as unknown.
            var unknown = issues.Where(i => i.ParserCode == "PVAL128" && i.SourceKey is not null && i.ReferenceKey != i.SourceKey).Select(i => i.SourceKey!).ToHashSet(StringComparer.Ordinal);
            // An element the parser could not read (a json null, a wrong shape) is also "empty" to it: that is the same problem.
            var explained = issues.Where(i => i.SourceKey is not null && ProblemOf(i) != "empty").Select(i => i.SourceKey!).ToHashSet(StringComparer.Ordinal);
            issues = issues.Where(i => !(i.ParserCode == EmptyElementCode && i.SourceKey is { } k && (unknown.Contains(k) || explained.Contains(k)))).DistinctBy(i => i.SourceKey is { } k ? $"{k}|{ProblemOf(i)}" : $"{i.ReferenceKey}.{i.ChildName}|{i.Issue.Message}").ToList();
            issues = WithEmptyArraysOwned(issues);
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

    private static ParseIssue ToIssue(Exception exception, SourceMap? map, ResourceFormat format)
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
        var isEmptyArray = coded.ErrorCode == EmptyArrayCode;
        // An empty array has no element of its own in the map; the parser's position is the array's.
        var position = key is null || isEmptyArray ? null : map!.Find(key);
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
        if (key is null)
            return new ParseIssue(issue, null, ParserCode: coded.ErrorCode);
        if (isEmptyArray)
        {
            // The parser names the array's first item, which does not exist; the map's nearest element is the array's owner.
            return new ParseIssue(issue, null, ReferenceKey: key, ChildName: LastName(coded.InstancePath!), ParserCode: coded.ErrorCode);
        }
        var fromXmlStructure = format == ResourceFormat.Xml && IsXmlStructureCode(coded.ErrorCode);
        if (coded.ErrorCode == "PVAL128")
        {
            // The reference validator's parsers report an unknown element on the element holding it; an unknown attribute
            // (not in the map, so the key is already its element) on the element carrying it.
            var cut = key.LastIndexOf('.');
            var namesItself = cut > 0 && LastName(key) == LastName(coded.InstancePath!);
            return new ParseIssue(issue, key, ReferenceKey: namesItself ? key[..cut] : key, FromXmlStructure: fromXmlStructure, ParserCode: coded.ErrorCode);
        }
        return new ParseIssue(issue, key, FromXmlStructure: fromXmlStructure, ParserCode: coded.ErrorCode);
    }

    /// <summary>The SDK's "an array needs to have at least one element" (JSON).</summary>
    private const string EmptyArrayCode = "JSON121";

    /// <summary>
    /// Parser findings the reference validator's XML parser makes too (unknown elements and attributes, text where none
    /// belongs, empty elements, the SDK's XML-specific checks), except element order, which it checks while validating.
    /// </summary>
    private static bool IsXmlStructureCode(string code) =>
        code is "PVAL128" or "PVAL129" || code.StartsWith("XML", StringComparison.Ordinal) && code != "XML109";

    /// <summary>The element name of the last step of a path or key, without its index ("coding" of "X.category[0].coding[0]").</summary>
    private static string LastName(string path)
    {
        var name = path[(path.LastIndexOf('.') + 1)..];
        var bracket = name.IndexOf('[');
        return bracket < 0 ? name : name[..bracket];
    }

    /// <summary>
    /// An empty array is reported on the array itself, once. Its owner may then look empty to the SDK too ("empty
    /// element" on the owner, which in the text holds the array): that finding is the array's, so it is dropped and the
    /// array's finding takes the owner as the element the walk leaves to the parser (its ele-1 would say the same again).
    /// </summary>
    private static List<ParseIssue> WithEmptyArraysOwned(List<ParseIssue> issues)
    {
        var owners = issues.Where(i => i.ChildName is not null).Select(i => i.ReferenceKey!).ToHashSet(StringComparer.Ordinal);
        if (owners.Count == 0)
            return issues;
        var emptied = issues.Where(i => i.ParserCode == EmptyElementCode && i.SourceKey is { } key && owners.Contains(key))
            .Select(i => i.SourceKey!).ToHashSet(StringComparer.Ordinal);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<ParseIssue>(issues.Count);
        foreach (var issue in issues)
        {
            if (issue.ParserCode == EmptyElementCode && issue.SourceKey is { } key && emptied.Contains(key))
                continue;
            // One array's finding per owner takes the owner over; a second empty array there needs no second claim.
            if (issue.ChildName is not null && emptied.Contains(issue.ReferenceKey!) && claimed.Add(issue.ReferenceKey!))
                result.Add(issue with { SourceKey = issue.ReferenceKey });
            else
                result.Add(issue);
        }
        return result;
    }
}
