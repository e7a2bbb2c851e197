using Hl7.Fhir.Model;

namespace FhirCaseService.Validation;

public enum ResourceFormat { Json, Xml }

/// <summary>Per-call choices. Immutable; defaults are what the server and the CLI use.</summary>
public sealed record ValidationOptions
{
    public static readonly ValidationOptions Default = new();

    /// <summary>
    /// The HL7 reference validator's choices, and the CLI's default: an extension whose definition cannot be found is an
    /// error unless its URL lies in <see cref="AllowedExtensionDomains"/> or is an example URL (<see cref="AllowExampleExtensions"/>).
    /// </summary>
    public static readonly ValidationOptions Reference = new()
    {
        UnknownExtensionsAreErrors = true,
        AllowExampleExtensions = true,
        ReferenceValidatorBundleLocations = true,
        ReferenceValidatorParserLocations = true,
        // HL7's own extensions beyond core R4 live in the HL7 extensions package, which the reference validator loads and
        // we do not ship: not finding one of them is no evidence that it is misused.
        AllowedExtensionDomains = [HL7ExtensionDomain],
    };

    /// <summary>The namespace of HL7's extensions (core R4 and the HL7 extensions package).</summary>
    public const string HL7ExtensionDomain = "http://hl7.org/fhir/StructureDefinition/";

    /// <summary>Canonical URLs of profiles to validate against in addition to core and meta.profile.</summary>
    public IReadOnlyList<string> Profiles { get; init; } = [];

    /// <summary>An extension whose definition cannot be found is a warning by default; this makes it an error.</summary>
    public bool UnknownExtensionsAreErrors { get; init; }

    /// <summary>
    /// URL prefixes (e.g. "http://example.org/fhir/") of extensions accepted without a definition even when
    /// <see cref="UnknownExtensionsAreErrors"/> is set: they stay a warning. Unknown modifier extensions are errors everywhere
    /// (except example URLs under <see cref="AllowExampleExtensions"/>).
    /// </summary>
    public IReadOnlyList<string> AllowedExtensionDomains { get; init; } = [];

    /// <summary>
    /// Extensions (modifier extensions included) whose URL is on one of the specification's example hosts
    /// (<see cref="ExampleHosts"/>) are accepted without a definition, with a warning, as the reference validator does
    /// when examples are allowed (its default): such URLs appear in examples and test material, never in real
    /// exchanges, so not finding their definition says nothing about the instance.
    /// </summary>
    public bool AllowExampleExtensions { get; init; }

    /// <summary>
    /// Bundle prose findings located as the reference validator locates them, so that outcomes compare one to one: every
    /// fullUrl finding on <c>Bundle.entry[0]</c>, and the document rules' findings with indexes counted from 1. Off (the
    /// server's choice), each finding names its own element. Either way the line, column and
    /// <see cref="IssueLocation.Entry"/> are those of the entry concerned.
    /// </summary>
    public bool ReferenceValidatorBundleLocations { get; init; }

    /// <summary>
    /// Findings about the shape of the text located as the reference validator's parsers locate them, so that outcomes
    /// compare one to one: an unknown element or JSON property on the element that holds it, and on XML input every
    /// finding about the XML's shape (unknown elements and attributes, text, empty elements) by the element's XML path
    /// (<c>/f:Observation/f:status</c>) instead of its FHIRPath. Off (the server's choice), such a finding names the unknown
    /// element itself by FHIRPath. Line and column are the same either way.
    /// </summary>
    public bool ReferenceValidatorParserLocations { get; init; }

    /// <summary>The hosts the reference validator treats as example URLs (matched anywhere in the URL, as it does).</summary>
    public static IReadOnlyList<string> ExampleHosts { get; } = ["example.org", "acme.com"];

    /// <summary>Whether an extension without a definition is an error under these options.</summary>
    public bool RejectsUnknownExtension(string url) =>
        UnknownExtensionsAreErrors && !AllowedExtensionDomains.Any(domain => url.StartsWith(domain, StringComparison.Ordinal)) && !IsAllowedExample(url)
        && !IsAcceptedEverywhere(url);

    /// <summary>Whether an unknown modifier extension is an error under these options (always, except allowed example URLs).</summary>
    public bool RejectsUnknownModifierExtension(string url) => !IsAllowedExample(url) && !IsAcceptedEverywhere(url);

    /// <summary>
    /// Extensions the reference validator accepts without a definition whatever its settings: DICOM's (any URL on
    /// nema.org, which publishes no FHIR definitions for them; the R4 examples use http://nema.org/fhir/extensions#0010:1010)
    /// and those of HL7's tooling namespace, which its tools define internally.
    /// </summary>
    private static bool IsAcceptedEverywhere(string url) =>
        url.Contains("nema.org", StringComparison.Ordinal) || url.StartsWith("http://hl7.org/fhir/tools/StructureDefinition/", StringComparison.Ordinal);

    private bool IsAllowedExample(string url) =>
        AllowExampleExtensions
        && ExampleHosts.Any(host => url.Contains(host, StringComparison.OrdinalIgnoreCase))
        && !url.StartsWith(OwnCanonicalBase, StringComparison.Ordinal);

    /// <summary>
    /// The canonical base of this product's own profiles and extensions. It happens to lie on an example host, but its
    /// definitions ship with the engine: an extension under it that cannot be found is genuinely unknown (a typo or a
    /// retired definition), never test material, so the example-URL leniency does not apply to it.
    /// </summary>
    public const string OwnCanonicalBase = "https://fhircase.example.org/fhir/";

    /// <summary>
    /// A Bundle with at least this many entries has its entries validated in parallel (the output is the same as one
    /// thread's, in entry order); 0 turns it off. The default keeps small Bundles, the common case on a busy server, on one thread.
    /// </summary>
    public int ParallelEntryThreshold { get; init; } = 1_000;

    /// <summary>How many threads validate a big Bundle's entries (default: the number of processors).</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Fetches resources that references name outside the instance (neither contained nor in the Bundle), so that a
    /// reference whose element restricts its target to a profile that is not core has its target checked against that
    /// profile, as the reference validator does with validateReference=CHECK_VALID. Null (the default): such references
    /// are checked by the type they name only. A reference the resolver cannot find is no finding.
    /// </summary>
    public IReferenceResolver? ReferenceResolver { get; init; }

    /// <summary>Report (as information) mustSupport elements that are absent.</summary>
    public bool ReportMustSupport { get; init; }

    /// <summary>
    /// Profiles required per resource type (the server's write policy): applied to the validated resource and to every
    /// Bundle entry's resource of that type, in the same single pass as its declared profiles. A required profile the
    /// engine cannot find is an error.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> RequiredProfiles { get; init; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);

    /// <summary>The required profiles for one type (empty when none).</summary>
    public IReadOnlyList<string> RequiredFor(string resourceType) =>
        RequiredProfiles.TryGetValue(resourceType, out var profiles) ? profiles : [];
}

/// <summary>
/// Validates FHIR R4 content against core R4, the profiles it declares and those the caller names.
/// Implementations compile each profile once and are safe to share across threads.
/// </summary>
public interface IResourceValidator
{
    /// <summary>Validates JSON or XML text; issues carry line and column.</summary>
    Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Validates what <see cref="Instance.InstanceReader.Read"/> parsed (the write path parses a request once and hands
    /// the same value to validation and storage): the parser's findings are part of the result, issues carry line and
    /// column from its source map, and issues inside a Bundle carry their entry index (<see cref="IssueLocation.Entry"/>).
    /// </summary>
    Task<ValidationResult> ValidateAsync(Instance.ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Validates an SDK object (no line/column information).</summary>
    Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default);
}
