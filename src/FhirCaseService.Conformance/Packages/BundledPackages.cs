namespace FhirCaseService.Conformance.Packages;

/// <summary>FHIR packages compiled into this assembly, available without any files beside the binaries.</summary>
public static class BundledPackages
{
    // Matches the LogicalName the project file gives the profiles/**/*.json embedded resources.
    private const string ProfilesPrefix = "fhircase-profiles/";

    private static readonly Lazy<FhirPackage> Profiles = new(LoadFhirCaseProfiles);

    /// <summary>Our own package (the repository's profiles/ folder at build time). One shared instance.</summary>
    public static FhirPackage FhirCaseProfiles() => Profiles.Value;

    private static FhirPackage LoadFhirCaseProfiles()
    {
        var assembly = typeof(BundledPackages).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resourceName in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ProfilesPrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resourceName)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            files[resourceName[ProfilesPrefix.Length..].Replace('\\', '/')] = buffer.ToArray();
        }
        return FhirPackage.FromFiles("embedded:profiles", files);
    }
}
