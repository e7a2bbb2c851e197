using System.Collections.Concurrent;
using FhirCaseService.Conformance.CoreDefinitions;
using FhirCaseService.Conformance.Packages;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Conformance.Tests;

public sealed class SnapshotServiceTests : IDisposable
{
    private readonly TestPackages _packages = new();

    public void Dispose() => _packages.Dispose();

    private ConformanceContext CreateContext(CoreDefinitionsSource? core = null) =>
        ConformanceContext.CreateBuilder()
            .WithCore(core ?? CoreDefinitionsSource.Open())
            .AddPackage(FhirPackage.FromDirectory(_packages.WriteDirectory()))
            .Build();

    [Fact]
    public async Task A_differential_profile_on_Observation_gets_a_full_snapshot_without_errors()
    {
        var context = CreateContext();

        var result = await context.Snapshots.GetAsync(TestPackages.ProfileUrl);

        Assert.NotNull(result);
        Assert.False(result.HasErrors, string.Join("; ", result.Issues.Select(i => i.Diagnostics ?? i.Details?.Text)));
        var elements = result.Definition.Snapshot!.Element;
        Assert.True(elements.Count >= 50, $"snapshot has {elements.Count} elements");
        Assert.Equal("final", (elements.Single(e => e.Path == "Observation.status").Fixed as Code)?.Value);
        Assert.Equal(1, elements.Single(e => e.Path == "Observation.subject").Min);
    }

    [Fact]
    public async Task Concurrent_requests_for_one_profile_generate_its_snapshot_exactly_once()
    {
        var context = CreateContext();
        var generated = new ConcurrentQueue<string>();
        context.Snapshots.SnapshotGenerated += generated.Enqueue;
        using var start = new ManualResetEventSlim();

        // Every thread waits for the same signal, so their first requests race for the uncached canonical.
        var requests = Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
        {
            start.Wait();
            return context.Snapshots.GetAsync(TestPackages.ProfileUrl);
        })).ToList();
        start.Set();
        var results = await Task.WhenAll(requests);

        Assert.Equal([TestPackages.ProfileUrl], generated);
        Assert.All(results, r => Assert.Same(results[0], r));
    }

    [Fact]
    public async Task A_definition_shipped_with_a_snapshot_is_never_generated()
    {
        var context = CreateContext();
        var generated = new ConcurrentQueue<string>();
        context.Snapshots.SnapshotGenerated += generated.Enqueue;

        await context.Snapshots.GetAsync("http://hl7.org/fhir/StructureDefinition/Observation");
        await context.Snapshots.GetAsync("http://hl7.org/fhir/StructureDefinition/Observation");

        Assert.Empty(generated);
    }

    [Fact]
    public async Task Generating_a_snapshot_leaves_the_shared_source_definitions_unchanged()
    {
        var core = CoreDefinitionsSource.Open();
        var context = CreateContext(core);
        var serializer = new FhirJsonSerializer();
        var observationBefore = serializer.SerializeToString(core.Resolve("http://hl7.org/fhir/StructureDefinition/Observation")!);

        await context.Snapshots.GetAsync(TestPackages.ProfileUrl);

        var profile = (StructureDefinition)context.Resolver.Resolve(TestPackages.ProfileUrl)!;
        Assert.Null(profile.Snapshot);
        Assert.Equal(observationBefore, serializer.SerializeToString(core.Resolve("http://hl7.org/fhir/StructureDefinition/Observation")!));
    }

    [Fact]
    public async Task A_core_definition_comes_back_with_its_shipped_snapshot()
    {
        var core = CoreDefinitionsSource.Open();
        var context = CreateContext(core);

        var result = await context.Snapshots.GetAsync("http://hl7.org/fhir/StructureDefinition/vitalsigns");

        Assert.NotNull(result);
        Assert.Same(core.Resolve("http://hl7.org/fhir/StructureDefinition/vitalsigns"), result.Definition);
        Assert.Empty(result.Issues);
    }

    [Fact]
    public async Task A_profile_on_an_unknown_base_gives_error_issues_instead_of_throwing()
    {
        var context = CreateContext();
        var broken = new StructureDefinition
        {
            Url = "http://example.org/fhir/StructureDefinition/broken",
            Name = "Broken",
            Status = PublicationStatus.Draft,
            Kind = StructureDefinition.StructureDefinitionKind.Resource,
            Abstract = false,
            Type = "Observation",
            BaseDefinition = "http://example.org/fhir/StructureDefinition/does-not-exist",
            Derivation = StructureDefinition.TypeDerivationRule.Constraint,
            Differential = new StructureDefinition.DifferentialComponent
            {
                Element = [new ElementDefinition("Observation.status") { Min = 1 }],
            },
        };

        var result = await context.Snapshots.GenerateAsync(broken);

        Assert.True(result.HasErrors);
    }

    [Fact]
    public async Task An_unknown_canonical_has_no_snapshot()
    {
        var context = CreateContext();

        Assert.Null(await context.Snapshots.GetAsync("http://example.org/fhir/StructureDefinition/unknown"));
    }
}
