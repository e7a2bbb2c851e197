using FhirCaseService.Conformance.Packages;
using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Tests;

public sealed class BundledPackagesTests
{
    private static readonly string ProfilesFolder = Path.Combine(RepositoryRoot.Path, "profiles");

    [Fact]
    public void The_bundled_profiles_package_carries_the_manifest_of_the_profiles_folder()
    {
        var folder = FhirPackage.FromDirectory(ProfilesFolder);

        var bundled = BundledPackages.FhirCaseProfiles();

        Assert.NotNull(bundled.Manifest);
        Assert.Equal(folder.Manifest!.Display, bundled.Manifest.Display);
        Assert.Equal("https://fhircase.example.org/fhir", bundled.Manifest.Canonical);
    }

    [Fact]
    public void The_bundled_profiles_package_holds_every_canonical_of_the_profiles_folder()
    {
        var expected = FhirPackage.FromDirectory(ProfilesFolder).Source.Artifacts.Select(a => a.VersionedCanonical).Order().ToList();

        var bundled = BundledPackages.FhirCaseProfiles().Source.Artifacts.Select(a => a.VersionedCanonical).Order().ToList();

        Assert.Equal(expected, bundled);
        Assert.Contains(BundledPackages.FhirCaseProfiles().Source.Artifacts, a => a.ResourceType == "StructureDefinition");
    }

    [Fact]
    public void A_bundled_profile_resolves_through_the_default_context()
    {
        var context = ConformanceContext.CreateDefault();
        var profileUrl = BundledPackages.FhirCaseProfiles().Source.Artifacts.First(a => a.ResourceType == "StructureDefinition").Url;

        var resolved = context.Resolver.Resolve(profileUrl);

        Assert.Equal(profileUrl, Assert.IsType<StructureDefinition>(resolved).Url);
        Assert.NotNull(context.Resolver.Resolve("http://hl7.org/fhir/StructureDefinition/Patient"));
    }
}
