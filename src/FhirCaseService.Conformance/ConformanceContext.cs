using FhirCaseService.Conformance.CoreDefinitions;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Conformance.Snapshots;
using FhirCaseService.Conformance.Sources;
using FhirCaseService.Conformance.Terminology;

namespace FhirCaseService.Conformance;

/// <summary>
/// Everything the validator, the API and the CLI need from conformance resources, composed once:
/// one resolver over the packages and the R4 core (packages first, in the order added), snapshots
/// and local terminology over that resolver. Thread-safe; build one per process and share it.
/// </summary>
public sealed class ConformanceContext
{
    internal ConformanceContext(CoreDefinitionsSource core, IReadOnlyList<FhirPackage> packages)
    {
        Core = core;
        Packages = packages;
        Resolver = new ConformanceResolver([.. packages.Select(p => (ICanonicalSource)p.Source), core]);
        Snapshots = new SnapshotService(Resolver);
        Terminology = new LocalTerminology(Resolver);
    }

    /// <summary>The embedded FHIR R4 core definitions (also reachable through <see cref="Resolver"/>).</summary>
    public CoreDefinitionsSource Core { get; }

    /// <summary>The packages in resolution order (before the core).</summary>
    public IReadOnlyList<FhirPackage> Packages { get; }

    /// <summary>Resolves any canonical of the packages or the core; an SDK IAsyncResourceResolver and IResourceResolver.</summary>
    public ConformanceResolver Resolver { get; }

    public SnapshotService Snapshots { get; }

    public LocalTerminology Terminology { get; }

    /// <summary>Core R4 plus our bundled profiles package: what the API and CLI use by default.</summary>
    public static ConformanceContext CreateDefault() => CreateBuilder().AddBundledProfiles().Build();

    public static ConformanceContextBuilder CreateBuilder() => new();
}

/// <summary>Collects packages for a <see cref="ConformanceContext"/>; opening a bad path throws <see cref="FhirPackageException"/>.</summary>
public sealed class ConformanceContextBuilder
{
    private readonly List<FhirPackage> _packages = [];
    private CoreDefinitionsSource? _core;

    /// <summary>Uses this core source instead of the process-wide shared one (tests, measurements).</summary>
    public ConformanceContextBuilder WithCore(CoreDefinitionsSource core)
    {
        _core = core;
        return this;
    }

    /// <summary>Our profiles package compiled into the Conformance assembly.</summary>
    public ConformanceContextBuilder AddBundledProfiles() => AddPackage(BundledPackages.FhirCaseProfiles());

    /// <summary>A package directory, a directory of conformance resources, or a .tgz package.</summary>
    public ConformanceContextBuilder AddPackage(string path) => AddPackage(FhirPackage.FromPath(path));

    public ConformanceContextBuilder AddPackage(FhirPackage package)
    {
        _packages.Add(package);
        return this;
    }

    public ConformanceContext Build() => new(_core ?? CoreDefinitionsSource.Shared, _packages.ToList());
}
