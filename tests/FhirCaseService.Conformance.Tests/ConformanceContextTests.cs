using FhirCaseService.Conformance.CoreDefinitions;
using FhirCaseService.Conformance.Packages;
using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Tests;

public sealed class ConformanceContextTests : IDisposable
{
    private readonly TestPackages _packages = new();

    public void Dispose() => _packages.Dispose();

    [Fact]
    public void Packages_are_asked_before_the_core_in_the_order_added()
    {
        var first = FhirPackage.FromDirectory(_packages.WriteDirectory());
        var second = FhirPackage.FromPath(_packages.WriteTarball());

        var context = ConformanceContext.CreateBuilder().WithCore(CoreDefinitionsSource.Open()).AddPackage(first).AddPackage(second).Build();

        Assert.Same(first.Source.Resolve(TestPackages.ProfileUrl), context.Resolver.Resolve(TestPackages.ProfileUrl));
        Assert.Equal(0, second.Source.ParseCount);
        Assert.IsType<StructureDefinition>(context.Resolver.Resolve("http://hl7.org/fhir/StructureDefinition/Observation"));
    }

    [Fact]
    public void The_composed_resolver_lists_canonicals_of_packages_and_core()
    {
        var context = ConformanceContext.CreateBuilder()
            .WithCore(CoreDefinitionsSource.Open())
            .AddPackage(_packages.WriteDirectory())
            .Build();

        var valueSets = context.Resolver.ListCanonicals("ValueSet").ToList();

        Assert.Contains(TestPackages.ValueSetUrl, valueSets);
        Assert.Contains("http://hl7.org/fhir/ValueSet/administrative-gender", valueSets);
    }

    [Fact]
    public void The_composed_resolver_answers_the_sdk_interfaces_with_not_found_for_unknown_canonicals()
    {
        var context = ConformanceContext.CreateBuilder().WithCore(CoreDefinitionsSource.Open()).Build();
        Hl7.Fhir.Specification.Source.IResourceResolver syncResolver = context.Resolver;

        var result = syncResolver.TryResolveByCanonicalUri("http://example.org/none");

        Assert.False(result.Success);
        Assert.NotNull(result.Error);
        Assert.True(syncResolver.TryResolveByCanonicalUri("http://hl7.org/fhir/StructureDefinition/Patient").Success);
    }
}
