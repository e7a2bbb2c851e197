using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Xml;
using FhirCaseService.Conformance.Sources;

namespace FhirCaseService.Conformance.Packages;

/// <summary>
/// A FHIR package (npm layout: package.json plus conformance resources as JSON) or any directory of
/// conformance resources, indexed by canonical URL and parsed on demand through <see cref="Source"/>.
/// Resources may be JSON or XML files.
/// </summary>
public sealed class FhirPackage
{
    private const string ManifestFileName = "package.json";

    // Examples are instances, not definitions; node_modules and openapi hold nothing we resolve.
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.OrdinalIgnoreCase)
    {
        "example", "examples", "node_modules", "openapi",
    };

    private FhirPackage(string origin, FhirPackageManifest? manifest, LazyArtifactSource source)
    {
        Origin = origin;
        Manifest = manifest;
        Source = source;
    }

    /// <summary>Where the package was read from (a path, or "embedded:..." for bundled packages).</summary>
    public string Origin { get; }

    /// <summary>The package.json fields, or null for a plain directory of resources.</summary>
    public FhirPackageManifest? Manifest { get; }

    /// <summary>Resolves the package's conformance resources by canonical URL.</summary>
    public LazyArtifactSource Source { get; }

    /// <summary>A .tgz/.tar.gz package or a directory (with or without package.json).</summary>
    public static FhirPackage FromPath(string path) =>
        Directory.Exists(path) ? FromDirectory(path)
        : File.Exists(path) && (path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)) ? FromTarball(path)
        : File.Exists(path) ? throw new FhirPackageException($"{path}: not a package; expected a directory or a .tgz file")
        : throw new FhirPackageException($"{path}: no such file or directory");

    /// <summary>
    /// A directory holding a FHIR package (package.json beside the resources, or in a package/
    /// subfolder as npm unpacks it) or just conformance resources. Files are read again when resolved.
    /// </summary>
    public static FhirPackage FromDirectory(string path)
    {
        if (!Directory.Exists(path))
        {
            throw new FhirPackageException($"{path}: directory not found");
        }
        var root = Path.GetFullPath(path);
        if (!File.Exists(Path.Combine(root, ManifestFileName)) && File.Exists(Path.Combine(root, "package", ManifestFileName)))
        {
            root = Path.Combine(root, "package");
        }

        try
        {
            var manifestPath = Path.Combine(root, ManifestFileName);
            var manifest = File.Exists(manifestPath) ? FhirPackageManifest.Parse(File.ReadAllBytes(manifestPath), manifestPath) : null;
            var files = EnumerateResourceFiles(root)
                .Select(file => (Location: file, Content: (Func<byte[]>)(() => File.ReadAllBytes(file))));
            return Create(root, manifest, files, File.ReadAllBytes);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FhirPackageException($"{path}: cannot read the directory ({ex.Message})", ex);
        }
    }

    /// <summary>An npm package tarball (.tgz) whose files sit under package/; read into memory once.</summary>
    public static FhirPackage FromTarball(string path)
    {
        if (!File.Exists(path))
        {
            throw new FhirPackageException($"{path}: file not found");
        }
        Dictionary<string, byte[]> files;
        try
        {
            using var file = File.OpenRead(path);
            files = ReadTarball(file);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new FhirPackageException($"{path}: not a readable .tgz package ({ex.Message})", ex);
        }
        return FromFiles(Path.GetFullPath(path), files);
    }

    /// <summary>A package given as relative path -> bytes (tarballs and embedded packages).</summary>
    internal static FhirPackage FromFiles(string origin, IReadOnlyDictionary<string, byte[]> files)
    {
        var manifest = files.TryGetValue(ManifestFileName, out var manifestBytes)
            ? FhirPackageManifest.Parse(manifestBytes, $"{origin}/{ManifestFileName}")
            : null;
        var resources = files
            .Where(f => IsResourceFile(f.Key))
            .OrderBy(f => f.Key, StringComparer.Ordinal)
            .Select(f => (Location: f.Key, Content: (Func<byte[]>)(() => f.Value)));
        return Create(origin, manifest, resources, location => files[location]);
    }

    private static FhirPackage Create(
        string origin,
        FhirPackageManifest? manifest,
        IEnumerable<(string Location, Func<byte[]> Content)> files,
        Func<string, byte[]> readContent)
    {
        var name = manifest?.Display ?? origin;
        var artifacts = new List<ArtifactDescriptor>();
        var issues = new List<ArtifactIssue>();
        foreach (var (location, content) in files)
        {
            try
            {
                var bytes = content();
                var header = ResourceParser.IsXml(location) ? ResourceHeader.ReadXml(bytes) : ResourceHeader.Read(bytes);
                if (header?.Url is { } url)
                {
                    artifacts.Add(new ArtifactDescriptor(header.ResourceType, header.Id, url, header.Version, location));
                }
            }
            catch (Exception ex) when (ex is JsonException or XmlException or IOException or UnauthorizedAccessException)
            {
                issues.Add(new ArtifactIssue(name, location, $"skipped: {ex.Message}"));
            }
        }
        return new FhirPackage(origin, manifest, new LazyArtifactSource(name, artifacts, readContent, issues));
    }

    private static IEnumerable<string> EnumerateResourceFiles(string root)
    {
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            var directory = pending.Pop();
            foreach (var sub in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
            {
                if (!SkippedFolders.Contains(Path.GetFileName(sub)))
                {
                    pending.Push(sub);
                }
            }
            foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
            {
                if (IsResourceFile(Path.GetRelativePath(root, file)))
                {
                    yield return file;
                }
            }
        }
    }

    private static bool IsResourceFile(string relativePath)
    {
        var parts = relativePath.Replace('\\', '/').Split('/');
        var fileName = parts[^1];
        return (fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || ResourceParser.IsXml(fileName))
            && !fileName.StartsWith('.')
            && !(parts.Length == 1 && fileName == ManifestFileName)
            && !parts[..^1].Any(SkippedFolders.Contains);
    }

    // npm tarballs put every file under "package/"; paths are returned relative to that folder.
    private static Dictionary<string, byte[]> ReadTarball(Stream compressed)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
            {
                continue;
            }
            var name = entry.Name.Replace('\\', '/').TrimStart('.', '/');
            if (name.StartsWith("package/", StringComparison.Ordinal))
            {
                name = name["package/".Length..];
            }
            using var buffer = new MemoryStream();
            entry.DataStream.CopyTo(buffer);
            files[name] = buffer.ToArray();
        }
        return files;
    }
}
