using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema.Validators;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Slicing;

/// <summary>
/// What a discriminator test may need beyond the item: conformance to a profile (profile discriminators, checked against
/// that profile's compiled schema and cached per node in the run) and the type a profile constrains (resolved by canonical
/// at validation time, which is how recursive and not-yet-loaded profiles stay possible).
/// </summary>
public interface ISliceConformance
{
    /// <param name="at">The node's own path in the walk, when known: the trial then runs there and its result is kept for
    /// the walk of the node against the same profile that follows (a slice by profile is walked once).</param>
    ValueTask<bool> ConformsAsync(PocoNode node, string profile, PocoNode resource, ValidationRun run, InstancePath? at = null);

    ValueTask<string?> ConstrainedTypeAsync(string profile);
}

/// <summary>One repetition being assigned to a slice.</summary>
public readonly record struct SliceCandidate(PocoNode Item, PocoNode Resource, ValidationRun Run, ISliceConformance Conformance)
{
    /// <summary>The item's path in the walk (as the walker will validate it), when the matcher knows it.</summary>
    public InstancePath? ItemPath { get; init; }

    /// <summary>The slice being tested, whose children the item's children are walked against if the item is assigned to it.</summary>
    public ElementSchema? Slice { get; init; }

    /// <summary>
    /// The path the walker will validate a selected node at, if the item is assigned to <see cref="Slice"/>: the item
    /// itself, or one of its children by a child of the slice; null otherwise (a deeper or computed selection).
    /// </summary>
    public InstancePath? PathOf(PocoNode node)
    {
        if (ItemPath is not { } itemPath)
            return null;
        // By the objects the nodes stand for: a FHIRPath selection returns nodes of its own over the same instance.
        if (ReferenceEquals(node.Poco, Item.Poco))
            return itemPath;
        if (Slice is null || !ReferenceEquals(node.Parent?.Poco, Item.Poco) || !Slice.Content.ChildrenByName.TryGetValue(node.Name, out var child))
            return null;
        // The index among the children of that name that hold content, as the walker counts them.
        if (Item.Child(node.Name) is not { } siblings)
            return null;
        var index = 0;
        foreach (var sibling in siblings)
        {
            if (ReferenceEquals(sibling.Poco, node.Poco))
                return Engine.InstanceWalker.ItemPath(itemPath, child, index, node.Poco.TypeName);
            if (sibling.Poco is not null)
                index++;
        }
        return null;
    }
}

/// <summary>
/// One discriminator of one slice, compiled: the path to follow and what must be found there, read from the slice's
/// definition once. Immutable and thread-safe. A discriminator that admits everything compiles to no test at all.
/// </summary>
public abstract class DiscriminatorTest
{
    public abstract ValueTask<bool> MatchesAsync(SliceCandidate candidate);
}

/// <summary>An extension slice named by its url (the url discriminator stated through the slice's type profile).</summary>
public sealed class ExtensionUrlTest : DiscriminatorTest
{
    public ExtensionUrlTest(string url)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        Url = url;
    }

    public string Url { get; }

    public bool Matches(PocoNode item) => item.Poco is Extension extension && RawElements.Text(extension, "url") == Url;

    public override ValueTask<bool> MatchesAsync(SliceCandidate candidate) => ValueTask.FromResult(Matches(candidate.Item));
}

/// <summary>A value or pattern discriminator with a fixed value or pattern at its path: some selected node must match it.</summary>
public sealed class ExpectedValueTest : DiscriminatorTest
{
    private readonly DiscriminatorPath _path;

    public ExpectedValueTest(DiscriminatorPath path, IElementValidator expectation)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (expectation is not (FixedValueValidator or PatternValidator))
            throw new ArgumentException($"A value discriminator expects a fixed value or a pattern, not {expectation?.GetType().Name}.", nameof(expectation));
        _path = path;
        Expected = expectation;
    }

    /// <summary>The slice's fixed value or pattern at the path.</summary>
    public IElementValidator Expected { get; }

    public override ValueTask<bool> MatchesAsync(SliceCandidate candidate)
    {
        foreach (var node in _path.Select(candidate.Item, candidate.Resource, candidate.Run))
        {
            var matches = Expected is FixedValueValidator fixedValue ? fixedValue.Matches(node) : ((PatternValidator)Expected).Matches(node);
            if (matches)
                return ValueTask.FromResult(true);
        }
        return ValueTask.FromResult(false);
    }
}

/// <summary>A value discriminator on a bound element without a fixed value: some selected code must be in the bound ValueSet.</summary>
public sealed class BoundValueTest(DiscriminatorPath path, string valueSet) : DiscriminatorTest
{
    public string ValueSet { get; } = valueSet;

    public override async ValueTask<bool> MatchesAsync(SliceCandidate candidate)
    {
        foreach (var node in path.Select(candidate.Item, candidate.Resource, candidate.Run))
        {
            foreach (var (system, code) in CodesOf(node.Poco))
            {
                if (await candidate.Run.Terminology.CheckAsync(ValueSet, system, code, default).ConfigureAwait(false) is { Membership: CodeMembership.Member })
                    return true;
            }
        }
        return false;
    }

    // Read raw: a partial parse result may hold a wrong-shaped coding or a number where a code belongs.
    private static IEnumerable<(string? System, string Code)> CodesOf(Base value)
    {
        switch (value)
        {
            case CodeableConcept concept:
                foreach (var coding in RawElements.Many<Coding>(concept, "coding"))
                {
                    if (RawElements.Text(coding, "code") is { } code)
                        yield return (RawElements.Text(coding, "system"), code);
                }
                break;
            case Coding coding when RawElements.Text(coding, "code") is { } code:
                yield return (RawElements.Text(coding, "system"), code);
                break;
            case Quantity quantity when RawElements.Text(quantity, "code") is { } code:
                yield return (RawElements.Text(quantity, "system"), code);
                break;
            case PrimitiveType { JsonValue: string code }:
                yield return (null, code);
                break;
        }
    }
}

/// <summary>A value discriminator whose path names nothing the slice fixes: no repetition can be told to belong to it.</summary>
public sealed class UnmatchableTest : DiscriminatorTest
{
    public UnmatchableTest(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Reason = reason;
    }

    public string Reason { get; }

    public override ValueTask<bool> MatchesAsync(SliceCandidate candidate) => ValueTask.FromResult(false);
}

/// <summary>An exists discriminator: the slice requires the path to be present (min &gt; 0) or absent (max 0).</summary>
public sealed class ExistsTest(DiscriminatorPath path, bool mustExist) : DiscriminatorTest
{
    public bool MustExist { get; } = mustExist;

    public override ValueTask<bool> MatchesAsync(SliceCandidate candidate) =>
        ValueTask.FromResult(path.Select(candidate.Item, candidate.Resource, candidate.Run).Count > 0 == MustExist);
}

/// <summary>
/// A type discriminator: some selected node has one of the slice's types. An abstract type (Resource, DomainResource)
/// narrowed by profiles admits the types those profiles constrain, looked up by canonical when first needed.
/// </summary>
public sealed class TypeTest : DiscriminatorTest
{
    private readonly DiscriminatorPath _path;

    public TypeTest(DiscriminatorPath path, IReadOnlySet<string> types, IReadOnlyList<string> typeProfiles)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        Types = types;
        TypeProfiles = typeProfiles;
    }

    public IReadOnlySet<string> Types { get; }

    /// <summary>Profiles on an abstract type, each admitting the type it constrains.</summary>
    public IReadOnlyList<string> TypeProfiles { get; }

    public override async ValueTask<bool> MatchesAsync(SliceCandidate candidate)
    {
        IReadOnlySet<string> allowed = Types;
        if (TypeProfiles.Count > 0)
        {
            var withProfiled = new HashSet<string>(Types, StringComparer.Ordinal);
            foreach (var profile in TypeProfiles)
            {
                if (await candidate.Conformance.ConstrainedTypeAsync(profile).ConfigureAwait(false) is { } type)
                    withProfiled.Add(type);
            }
            allowed = withProfiled;
        }
        if (allowed.Count == 0)
            return true;
        foreach (var node in _path.Select(candidate.Item, candidate.Resource, candidate.Run))
        {
            if (allowed.Contains(node.Poco.TypeName)
                || node.Poco is Resource && allowed.Contains("Resource")
                || node.Poco is DomainResource && allowed.Contains("DomainResource"))
                return true;
        }
        return false;
    }
}

/// <summary>A profile discriminator: some selected node meets one of the profiles (a cached conformance check against the profile's compiled schema).</summary>
public sealed class ProfileTest : DiscriminatorTest
{
    private readonly DiscriminatorPath _path;

    public ProfileTest(DiscriminatorPath path, IReadOnlyList<string> profiles)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (profiles.Count == 0)
            throw new ArgumentException("A profile discriminator test needs at least one profile.", nameof(profiles));
        _path = path;
        Profiles = profiles;
    }

    public IReadOnlyList<string> Profiles { get; }

    public override async ValueTask<bool> MatchesAsync(SliceCandidate candidate)
    {
        foreach (var node in _path.Select(candidate.Item, candidate.Resource, candidate.Run))
        {
            foreach (var profile in Profiles)
            {
                if (await candidate.Conformance.ConformsAsync(node, profile, candidate.Resource, candidate.Run, candidate.PathOf(node)).ConfigureAwait(false))
                    return true;
            }
        }
        return false;
    }
}
