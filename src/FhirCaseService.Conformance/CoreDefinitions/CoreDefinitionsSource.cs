using System.IO.Compression;
using System.Text.Json;
using FhirCaseService.Conformance.Sources;
using Resource = Hl7.Fhir.Model.Resource;
using SearchParameter = Hl7.Fhir.Model.SearchParameter;
using Hl7.Fhir.Specification.Source;

namespace FhirCaseService.Conformance.CoreDefinitions;

/// <summary>What the archive index says about a core StructureDefinition, known without parsing it.</summary>
public sealed record CoreStructureDefinitionInfo(string Url, string Type, string Kind, string Derivation, bool IsAbstract);

/// <summary>
/// The FHIR R4 (4.0.1) core definitions embedded in this assembly as one zip. Opening reads only
/// the zip directory and index.json; each resource is parsed when first resolved, then cached.
/// </summary>
public sealed class CoreDefinitionsSource : ICanonicalSource
{
    private const string ResourceName = "FhirCaseService.Conformance.fhir-r4-core.zip";
    private const string IndexEntryName = "index.json";
    private const string PublicationVersion = "4.0.1";

    private static readonly Lazy<CoreDefinitionsSource> SharedInstance = new(Open);

    private readonly ZipArchive _archive;
    private readonly Lock _archiveLock = new();
    private readonly LazyArtifactSource _artifacts;
    private readonly IReadOnlyDictionary<string, string[]> _searchParameterEntriesByBase;

    private CoreDefinitionsSource(ZipArchive archive)
    {
        _archive = archive;
        var index = ReadIndex(archive);
        Provenance = index.Provenance;
        StructureDefinitions = index.StructureDefinitions;
        _searchParameterEntriesByBase = index.SearchParametersByBase;
        _artifacts = new LazyArtifactSource(
            $"FHIR R4 core {Provenance.GetValueOrDefault("version", "4.0.1")}", index.Artifacts, ReadEntry);
    }

    /// <summary>One instance per process, for hosts; its parsed resources are shared by every caller.</summary>
    public static CoreDefinitionsSource Shared => SharedInstance.Value;

    /// <summary>A fresh instance with an empty parse cache (tests and measurements).</summary>
    public static CoreDefinitionsSource Open()
    {
        var stream = typeof(CoreDefinitionsSource).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the Conformance assembly");
        return new CoreDefinitionsSource(new ZipArchive(stream, ZipArchiveMode.Read));
    }

    public string Name => _artifacts.Name;

    public IReadOnlyList<ArtifactDescriptor> Artifacts => _artifacts.Artifacts;

    /// <summary>Source package, FHIR version and HL7 build the archive was packed from (see docs/core-definitions.md).</summary>
    public IReadOnlyDictionary<string, string> Provenance { get; }

    /// <summary>Every core StructureDefinition by canonical URL: type, kind, derivation, abstract.</summary>
    public IReadOnlyDictionary<string, CoreStructureDefinitionInfo> StructureDefinitions { get; }

    /// <summary>How many entries have been parsed so far; each is parsed at most once.</summary>
    public int ParseCount => _artifacts.ParseCount;

    /// <summary>Problems met parsing entries so far (expected to stay empty).</summary>
    public IReadOnlyList<ArtifactIssue> Issues => _artifacts.Issues;

    /// <summary>
    /// Resolves "url" or "url|version". Every artifact here is as published in FHIR R4 4.0.1, and R4
    /// itself refers to some terminology.hl7.org ValueSets as "url|4.0.1" although they carry their
    /// own version (v3-NullFlavor is 2018-08-12): "|4.0.1" therefore also matches the one copy held.
    /// </summary>
    public Resource? Resolve(string canonical) =>
        _artifacts.Resolve(canonical)
        ?? (CanonicalUrl.Split(canonical) is (var url, PublicationVersion) ? _artifacts.Resolve(url) : null);

    /// <summary>Canonical URLs of every resource of one type ("StructureDefinition", "ValueSet", ...).</summary>
    public IEnumerable<string> ListCanonicals(string resourceType) =>
        Artifacts.Where(a => a.ResourceType == resourceType).Select(a => a.Url).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The core SearchParameters that apply to a resource type. With <paramref name="includeInherited"/>
    /// the ones defined on Resource and DomainResource (_id, _lastUpdated, _text, ...) come too.
    /// </summary>
    public IReadOnlyList<SearchParameter> SearchParametersFor(string resourceType, bool includeInherited = true)
    {
        var bases = includeInherited ? new[] { resourceType, "DomainResource", "Resource" }.Distinct() : [resourceType];
        return bases
            .SelectMany(b => _searchParameterEntriesByBase.GetValueOrDefault(b) ?? [])
            .Distinct(StringComparer.Ordinal)
            .Select(_artifacts.LoadAt)
            .OfType<SearchParameter>()
            .ToList();
    }

    public ResolverResult TryResolveByCanonicalUri(string uri) => LazyArtifactSource.ToResult(Resolve(uri), uri);

    public ResolverResult TryResolveByUri(string uri) =>
        Resolve(uri) is { } byCanonical ? new ResolverResult(byCanonical) : _artifacts.TryResolveByUri(uri);

    public Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) => Task.FromResult(TryResolveByCanonicalUri(uri));

    public Task<ResolverResult> TryResolveByUriAsync(string uri) => Task.FromResult(TryResolveByUri(uri));


    public override string ToString() => Name;

    // ZipArchive is not safe for concurrent reads; entries are small, so one lock is cheap.
    private byte[] ReadEntry(string entryName)
    {
        lock (_archiveLock)
        {
            var entry = _archive.GetEntry(entryName) ?? throw new InvalidDataException($"core archive has no entry {entryName}");
            using var stream = entry.Open();
            var buffer = new byte[entry.Length];
            stream.ReadExactly(buffer);
            return buffer;
        }
    }

    private static CoreIndex ReadIndex(ZipArchive archive)
    {
        var entry = archive.GetEntry(IndexEntryName) ?? throw new InvalidDataException("core archive has no index.json");
        using var stream = entry.Open();
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;

        var provenance = root.GetProperty("provenance").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);

        var artifacts = new List<ArtifactDescriptor>();
        foreach (var row in root.GetProperty("canonicals").EnumerateArray())
        {
            var entryName = row[0].GetString()!;
            var slash = entryName.IndexOf('/');
            artifacts.Add(new ArtifactDescriptor(
                ResourceType: entryName[..slash],
                Id: entryName[(slash + 1)..^".json".Length],
                Url: row[1].GetString()!,
                Version: row[2].ValueKind == JsonValueKind.String ? row[2].GetString() : null,
                Location: entryName));
        }

        var structureDefinitions = new Dictionary<string, CoreStructureDefinitionInfo>(StringComparer.Ordinal);
        foreach (var sd in root.GetProperty("structureDefinitions").EnumerateArray())
        {
            var url = sd.GetProperty("url").GetString()!;
            structureDefinitions[url] = new CoreStructureDefinitionInfo(
                url,
                sd.GetProperty("type").GetString()!,
                sd.GetProperty("kind").GetString()!,
                sd.GetProperty("derivation").GetString() ?? "",
                sd.GetProperty("abstract").GetBoolean());
        }

        var searchParameters = root.GetProperty("searchParametersByBase").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetString()!).ToArray(), StringComparer.Ordinal);

        return new CoreIndex(provenance, artifacts, structureDefinitions, searchParameters);
    }

    private sealed record CoreIndex(
        IReadOnlyDictionary<string, string> Provenance,
        IReadOnlyList<ArtifactDescriptor> Artifacts,
        IReadOnlyDictionary<string, CoreStructureDefinitionInfo> StructureDefinitions,
        IReadOnlyDictionary<string, string[]> SearchParametersByBase);
}
