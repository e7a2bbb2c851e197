using System.Collections.Concurrent;
using Resource = Hl7.Fhir.Model.Resource;
using Hl7.Fhir.Specification.Source;

namespace FhirCaseService.Conformance.Sources;

/// <summary>
/// Resolves canonicals against an index built up front, reading and parsing a resource only when
/// first asked for and exactly once (thread-safe). Backs the core archive and every package source.
/// </summary>
public sealed class LazyArtifactSource : ICanonicalSource
{
    private readonly Func<string, byte[]> _readContent;
    private readonly Dictionary<string, ArtifactDescriptor> _byCanonical = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ArtifactDescriptor> _byTypeAndId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Resource?>> _parsed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<ArtifactIssue> _issues = new();
    private int _parseCount;

    /// <param name="name">Shown in messages.</param>
    /// <param name="artifacts">The index; a url without version resolves to its latest version.</param>
    /// <param name="readContent">Returns the bytes stored at a descriptor's location (JSON, or XML when it ends in .xml).</param>
    /// <param name="indexIssues">Problems met while building the index (unreadable files and the like).</param>
    public LazyArtifactSource(
        string name,
        IEnumerable<ArtifactDescriptor> artifacts,
        Func<string, byte[]> readContent,
        IEnumerable<ArtifactIssue>? indexIssues = null)
    {
        Name = name;
        _readContent = readContent;
        var list = new List<ArtifactDescriptor>();
        foreach (var artifact in artifacts)
        {
            list.Add(artifact);
            if (artifact.Version is not null)
            {
                _byCanonical.TryAdd(artifact.VersionedCanonical, artifact);
            }
            if (!_byCanonical.TryGetValue(artifact.Url, out var current)
                || VersionOrder.Compare(artifact.Version, current.Version) > 0)
            {
                _byCanonical[artifact.Url] = artifact;
            }
            if (artifact.Id is not null)
            {
                _byTypeAndId.TryAdd($"{artifact.ResourceType}/{artifact.Id}", artifact);
            }
        }
        Artifacts = list;
        foreach (var issue in indexIssues ?? [])
        {
            _issues.Enqueue(issue);
        }
    }

    public string Name { get; }

    public IReadOnlyList<ArtifactDescriptor> Artifacts { get; }

    /// <summary>How many resources have been parsed so far (each is parsed at most once).</summary>
    public int ParseCount => Volatile.Read(ref _parseCount);

    /// <summary>Problems met indexing or parsing resources so far.</summary>
    public IReadOnlyList<ArtifactIssue> Issues => _issues.ToArray();

    public Resource? Resolve(string canonical)
    {
        var (url, version) = CanonicalUrl.Split(canonical);
        var key = version is null ? url : $"{url}|{version}";
        return _byCanonical.TryGetValue(key, out var artifact) ? Load(artifact) : null;
    }

    /// <summary>Resolves a canonical, or a literal "Type/id" (optionally at the end of an absolute URL).</summary>
    public Resource? ResolveUri(string uri)
    {
        if (Resolve(uri) is { } byCanonical)
        {
            return byCanonical;
        }
        var parts = CanonicalUrl.Split(uri).Url.TrimEnd('/').Split('/');
        return parts.Length >= 2 && _byTypeAndId.TryGetValue($"{parts[^2]}/{parts[^1]}", out var artifact)
            ? Load(artifact)
            : null;
    }

    /// <summary>Parses (once) the resource stored at a descriptor's location.</summary>
    public Resource? Load(ArtifactDescriptor artifact) => LoadAt(artifact.Location);

    /// <summary>Parses (once) the resource stored at a location (zip entry or file path).</summary>
    public Resource? LoadAt(string location) =>
        _parsed.GetOrAdd(location, key => new Lazy<Resource?>(() => Parse(key))).Value;

    public ResolverResult TryResolveByCanonicalUri(string uri) => ToResult(Resolve(uri), uri);

    public ResolverResult TryResolveByUri(string uri) => ToResult(ResolveUri(uri), uri);

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) => Task.FromResult(TryResolveByCanonicalUri(uri));

    public Task<ResolverResult> TryResolveByUriAsync(string uri) => Task.FromResult(TryResolveByUri(uri));


    public override string ToString() => Name;

    internal static ResolverResult ToResult(Resource? resource, string uri) =>
        resource is not null
            ? new ResolverResult(resource)
            : new ResolverResult(new ResolverException(ResolverException.NOT_FOUND, $"'{uri}' is not known to this source"));

    private Resource? Parse(string location)
    {
        Interlocked.Increment(ref _parseCount);
        byte[] json;
        try
        {
            json = _readContent(location);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            _issues.Enqueue(new ArtifactIssue(Name, location, $"cannot read: {ex.Message}"));
            return null;
        }
        var (resource, problems) = ResourceParser.Parse(location, json);
        foreach (var problem in problems)
        {
            _issues.Enqueue(new ArtifactIssue(Name, location, problem));
        }
        return resource;
    }
}
