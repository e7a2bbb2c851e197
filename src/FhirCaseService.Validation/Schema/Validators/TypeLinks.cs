using System.Collections.Concurrent;
using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Primitives;
using FhirCaseService.Validation.Schema.Slicing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>What a type link needs from the walk: the schemas, the walk of a node against a structure's root, a resource's walk against its profiles, and profile trials.</summary>
internal interface ITypeWalk
{
    SchemaRepository Schemas { get; }

    ISliceConformance Conformance { get; }

    ValueTask WalkRootAsync(PocoNode node, StructureSchema schema, InstancePath path, PocoNode resource, ValidationRun run);

    ValueTask ValidateResourceAsync(PocoNode node, InstancePath path, ValidationRun run, IReadOnlyList<string> extraProfiles, bool profilesAreRequired);
}

/// <summary>
/// ElementDefinition.type compiled into what a node of that type is checked against once its element's own rules have
/// run (the type link): a resource against its profiles or core definition, a Reference's targets and aggregation, a
/// profiled type against the profile it meets, an extension against the definition its url names, any other datatype
/// against its core definition (a primitive only when it carries an id or extensions). Built once per declared type
/// (<see cref="TypeReference.Link"/>), canonical URLs included; the type's result on the node is combined with the
/// element's as one set (<see cref="FindingBuilder.Union"/>): both may carry a rule of one base definition (ele-1 on the
/// element and on the datatype's root). Immutable and thread-safe; schemas are still fetched by canonical when first met,
/// which is how recursive structures terminate.
/// </summary>
public abstract class TypeLink
{
    private static readonly ConcurrentDictionary<string, TypeLink> Plain = new(StringComparer.Ordinal);

    private protected TypeLink(ReferenceValidator? reference) => Reference = reference;

    /// <summary>For a node of type Reference: its targets and aggregation, checked before the walk of its type.</summary>
    public ReferenceValidator? Reference { get; }

    /// <summary>
    /// The link for a node of type <paramref name="instanceType"/> met through a declared type with <paramref name="profiles"/>
    /// and, for a Reference, <paramref name="reference"/>; <paramref name="isBundleEntryResource"/> when the element is
    /// Bundle.entry.resource (the caller's required profiles apply there).
    /// </summary>
    public static TypeLink For(string instanceType, IReadOnlyList<string> profiles, ReferenceValidator? reference, bool isBundleEntryResource)
    {
        ArgumentNullException.ThrowIfNull(instanceType);
        ArgumentNullException.ThrowIfNull(profiles);
        if (instanceType is "Resource" or "DomainResource" || ModelInfo.IsKnownResource(instanceType))
            return new ResourceLink(profiles, isBundleEntryResource);
        if (profiles.Count == 0 && reference is null or { IsUnconstrained: true })
            return PlainFor(instanceType);
        var referenceCheck = instanceType == "Reference" ? reference ?? ReferenceValidator.Unconstrained : null;
        return profiles.Count > 0
            ? new ProfiledTypeLink(referenceCheck, profiles, isExtension: instanceType == "Extension")
            : new CoreTypeLink(referenceCheck, instanceType);
    }

    /// <summary>The link of a non-resource type without profiles: one per type name in the process.</summary>
    internal static TypeLink PlainFor(string instanceType) => Plain.GetOrAdd(instanceType, static type => type switch
    {
        "Extension" => ExtensionLink.Instance,
        "Reference" => new CoreTypeLink(ReferenceValidator.Unconstrained, type),
        _ => new CoreTypeLink(null, type),
    });

    /// <summary>Checks <paramref name="node"/> against what its type links it to; <paramref name="start"/> marks where the node's result begins.</summary>
    internal abstract ValueTask FollowAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run, FindingMark start);

    private protected ValueTask CheckReferenceAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run) =>
        Reference is not null && node.Poco is ResourceReference reference
            ? Reference.ValidateAsync(reference, path, resource, run, walk.Conformance)
            : ValueTask.CompletedTask;

    /// <summary>
    /// Several profiles on one type are alternatives (ElementDefinition.type.profile): the node must meet one of them. The
    /// first it meets is the one it is validated against; when it meets none, that is an error and every alternative's
    /// findings are reported, so the user sees why each one failed.
    /// </summary>
    private protected static async ValueTask<IReadOnlyList<string>> ChooseProfileAsync(ITypeWalk walk, PocoNode node, IReadOnlyList<string> choices, InstancePath path,
        PocoNode resource, ValidationRun run)
    {
        if (choices.Count < 2)
            return choices;
        foreach (var choice in choices)
        {
            if (await walk.Conformance.ConformsAsync(node, choice, resource, run, path).ConfigureAwait(false))
                return [choice];
        }
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
            $"This {node.Poco.TypeName} meets none of the profiles allowed here: {string.Join(", ", choices)}.", path, "profile-choice");
        return choices;
    }

    /// <summary>Walks the node against the definition <paramref name="canonical"/> names, or says that it is unknown.</summary>
    private protected static async ValueTask WalkTypeAsync(ITypeWalk walk, PocoNode node, string canonical, InstancePath path, PocoNode resource, ValidationRun run,
        bool isExtensionProfile)
    {
        var lookup = await walk.Schemas.GetAsync(canonical).ConfigureAwait(false);
        if (lookup.Schema is null)
        {
            if (isExtensionProfile)
                ReportUnknownExtension(node, canonical, path, run);
            else
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound,
                    $"Definition {canonical} is unknown; this element was not checked against it. {lookup.Problem}", path, "profile-unknown");
            return;
        }
        ReportDefinitionProblem(lookup, path, run);
        await walk.WalkRootAsync(node, lookup.Schema, path, resource, run).ConfigureAwait(false);
    }

    /// <summary>A profile whose snapshot could only partly be generated is applied as far as it goes, and said so once.</summary>
    internal static void ReportDefinitionProblem(SchemaLookup lookup, InstancePath path, ValidationRun run)
    {
        if (lookup is { Schema: { } schema, Problem: { } problem })
        {
            run.ReportOnce("snapshot:" + schema.Canonical, OperationOutcome.IssueSeverity.Warning, OperationOutcome.IssueType.Incomplete,
                problem + " The profile may be only partly applied.", path, "profile-snapshot");
        }
    }

    private protected static void ReportUnknownExtension(PocoNode node, string url, InstancePath path, ValidationRun run)
    {
        var isModifier = node.Name == "modifierExtension";
        var rejected = isModifier ? run.Options.RejectsUnknownModifierExtension(url) : run.Options.RejectsUnknownExtension(url);
        var severity = rejected ? OperationOutcome.IssueSeverity.Error : OperationOutcome.IssueSeverity.Warning;
        var message = isModifier
            ? $"Modifier extension {url} is unknown: it may change the meaning of the resource, so the resource cannot be safely processed."
            : $"Extension {url} is unknown, so its content was not checked.";
        run.Report(severity, OperationOutcome.IssueType.Extension, message, path, isModifier ? "unknown-modifier-extension" : "unknown-extension");
    }
}

/// <summary>
/// A resource in an element (contained, Bundle.entry.resource, Parameters.parameter.resource): walked as a resource, against
/// the profile of the declared type it meets (or all of them when it meets none) and its own meta.profile; in
/// Bundle.entry.resource also against the caller's required profiles for its type.
/// </summary>
public sealed class ResourceLink : TypeLink
{
    /// <summary>For a resource in an element that declares no type for it (an untyped element, a slice of other types).</summary>
    internal static ResourceLink Untyped { get; } = new([], isBundleEntryResource: false);

    internal static ResourceLink UntypedBundleEntry { get; } = new([], isBundleEntryResource: true);

    public ResourceLink(IReadOnlyList<string> profiles, bool isBundleEntryResource) : base(null)
    {
        Profiles = profiles;
        IsBundleEntryResource = isBundleEntryResource;
    }

    public IReadOnlyList<string> Profiles { get; }

    public bool IsBundleEntryResource { get; }

    /// <summary>Whether every profile the element's type names for the resource is known.</summary>
    internal async ValueTask<bool> ProfilesKnownAsync(ITypeWalk walk)
    {
        foreach (var profile in Profiles)
        {
            if ((await walk.Schemas.GetAsync(profile).ConfigureAwait(false)).Schema is null)
                return false;
        }
        return true;
    }

    internal override async ValueTask FollowAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run, FindingMark start)
    {
        var profiles = await ChooseProfileAsync(walk, node, Profiles, path, resource, run).ConfigureAwait(false);
        // The reference validator meets an unknown profile of the element's type twice: as the element's type profile,
        // and again when it validates the resource the element holds against it; both are errors at the element.
        foreach (var profile in profiles)
        {
            if ((await walk.Schemas.GetAsync(profile).ConfigureAwait(false)).Schema is null)
                run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                    $"The {node.Poco.TypeName} held here must meet profile {profile}, which is not found, so it cannot be validated against it.", path, "profile-unknown");
        }
        if (IsBundleEntryResource && run.Options.RequiredFor(node.Poco.TypeName) is { Count: > 0 } required)
            profiles = [.. profiles.Concat(required).Distinct(StringComparer.Ordinal)];
        var mark = run.Findings.Mark;
        await walk.ValidateResourceAsync(node, path, run, profiles, profilesAreRequired: true).ConfigureAwait(false);
        run.Findings.Union(start, mark);
    }
}

/// <summary>A datatype (or extension) with profiles: walked against the one it meets, or against each when it meets none.</summary>
public sealed class ProfiledTypeLink : TypeLink
{
    private readonly bool _isExtension;

    internal ProfiledTypeLink(ReferenceValidator? reference, IReadOnlyList<string> profiles, bool isExtension) : base(reference)
    {
        Profiles = profiles;
        _isExtension = isExtension;
    }

    public IReadOnlyList<string> Profiles { get; }

    internal override async ValueTask FollowAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run, FindingMark start)
    {
        await CheckReferenceAsync(walk, node, path, resource, run).ConfigureAwait(false);
        foreach (var profile in await ChooseProfileAsync(walk, node, Profiles, path, resource, run).ConfigureAwait(false))
        {
            var mark = run.Findings.Mark;
            await WalkTypeAsync(walk, node, profile, path, resource, run, _isExtension).ConfigureAwait(false);
            run.Findings.Union(start, mark);
        }
    }
}

/// <summary>
/// An extension without a declared profile: walked against the definition its url names. A relative (or missing) url is
/// checked against core Extension (sub-extensions of a complex extension are also checked by their parent's slices); an
/// unknown absolute url is reported (warning or error by the options) and checked against core Extension.
/// </summary>
public sealed class ExtensionLink : TypeLink
{
    private static readonly string CoreExtension = SchemaRepository.CoreUrl("Extension");

    internal static ExtensionLink Instance { get; } = new();

    private ExtensionLink() : base(null)
    {
    }

    internal override async ValueTask FollowAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run, FindingMark start)
    {
        if (node.Poco is not Extension extension)
            return;
        var mark = run.Findings.Mark;
        await WalkByUrlAsync(walk, node, extension, path, resource, run).ConfigureAwait(false);
        run.Findings.Union(start, mark);
    }

    private static async ValueTask WalkByUrlAsync(ITypeWalk walk, PocoNode node, Extension extension, InstancePath path, PocoNode resource, ValidationRun run)
    {
        // Only absolute URLs name a definition.
        var url = RawElements.Text(extension, "url");
        if (url is null || !url.Contains(':', StringComparison.Ordinal))
        {
            await WalkTypeAsync(walk, node, CoreExtension, path, resource, run, isExtensionProfile: false).ConfigureAwait(false);
            return;
        }
        var lookup = await walk.Schemas.GetAsync(url).ConfigureAwait(false);
        if (lookup.Schema is null)
        {
            ReportUnknownExtension(node, url, path, run);
            await WalkTypeAsync(walk, node, CoreExtension, path, resource, run, isExtensionProfile: false).ConfigureAwait(false);
            return;
        }
        await walk.WalkRootAsync(node, lookup.Schema, path, resource, run).ConfigureAwait(false);
    }
}

/// <summary>
/// A datatype without profiles: walked against its core definition, whose canonical is worked out here once; a primitive
/// only when it has children (an id or extensions), its value being checked by format where it was met.
/// </summary>
public sealed class CoreTypeLink : TypeLink
{
    private readonly bool _isPrimitive;

    internal CoreTypeLink(ReferenceValidator? reference, string type) : base(reference)
    {
        Canonical = SchemaRepository.CoreUrl(type);
        _isPrimitive = PrimitiveFormats.IsPrimitive(type);
    }

    public string Canonical { get; }

    internal override async ValueTask FollowAsync(ITypeWalk walk, PocoNode node, InstancePath path, PocoNode resource, ValidationRun run, FindingMark start)
    {
        await CheckReferenceAsync(walk, node, path, resource, run).ConfigureAwait(false);
        if (!_isPrimitive || RawElements.HasChildOtherThan(node.Poco, except: null))
        {
            var mark = run.Findings.Mark;
            await WalkTypeAsync(walk, node, Canonical, path, resource, run, isExtensionProfile: false).ConfigureAwait(false);
            run.Findings.Union(start, mark);
        }
    }
}
