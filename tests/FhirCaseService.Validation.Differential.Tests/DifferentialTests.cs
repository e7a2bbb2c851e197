using System.Xml.Linq;
using FhirCaseService.TestSupport;
using Xunit.Abstractions;

namespace FhirCaseService.Validation.Differential.Tests;

/// <summary>
/// Our engine against Firely's validator, instance by instance: both must call the same instances valid or invalid once
/// the errors of a known, explained difference (known-differences.json) are set aside. Where they differ, the list says
/// what the HL7 reference validator does; HL7 is the reference.
/// </summary>
[Collection(DifferentialCollection.Name)]
public sealed class DifferentialTests(DifferentialRun run, ITestOutputHelper output)
{
    public static TheoryData<string> ExampleNames => new(DifferentialCorpus.Examples().Select(i => i.Name));

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void Engines_agree_on_the_example(string name)
    {
        var comparison = Assert.Single(run.Examples, c => c.Instance.Name == name);

        Assert.True(comparison.AgreeAfter(run.Known), "The engines disagree beyond the known differences:\n" + comparison.Describe(run.Known));
    }

    [Fact]
    public void Engines_agree_on_every_example_without_one_of_its_elements()
    {
        var disagreements = run.Reductions.Where(c => !c.AgreeAfter(run.Known)).ToList();
        output.WriteLine($"{run.Reductions.Count} reduced examples, {run.Reductions.Count(c => !c.Ours.IsValid)} invalid for us; "
            + $"{run.Reductions.Count(c => c.AgreeRaw)} agree as they are, {run.Reductions.Count - disagreements.Count} once known differences are set aside.");

        Assert.True(run.Reductions.Count(c => !c.Ours.IsValid) >= 10, "the reductions should break rules of our profiles");
        Assert.True(disagreements.Count == 0,
            $"{disagreements.Count} reduced examples where the engines disagree beyond the known differences:\n"
            + string.Join("\n", disagreements.Take(10).Select(c => c.Describe(run.Known))));
    }

    [Fact]
    public void Engines_agree_on_every_generated_instance()
    {
        var disagreements = run.Cohort.Where(c => !c.AgreeAfter(run.Known)).ToList();
        output.WriteLine($"{run.Cohort.Count} generated instances ({DifferentialCorpus.CohortPatients} patients, seed {DifferentialCorpus.CohortSeed}); "
            + $"{run.Cohort.Count(c => c.AgreeRaw)} agree as they are, {run.Cohort.Count - disagreements.Count} once known differences are set aside.");
        output.WriteLine($"Whole corpus: {run.All.Count()} instances, {run.All.Count(c => c.AgreeRaw)} agree as they are; "
            + $"time validating: ours {run.OursTime.TotalSeconds:F1} s, Firely {run.FirelyTime.TotalSeconds:F1} s (warm-up included).");

        Assert.True(run.Cohort.Count > DifferentialCorpus.CohortPatients * 10, $"the generator gave only {run.Cohort.Count} instances");
        Assert.True(disagreements.Count == 0,
            $"{disagreements.Count} generated instances where the engines disagree beyond the known differences:\n"
            + string.Join("\n", disagreements.Take(10).Select(c => c.Describe(run.Known))));
    }

    /// <summary>A difference that no longer occurs must leave the list, so the list stays the truth about the engines.</summary>
    [Fact]
    public void Every_known_difference_still_occurs()
    {
        var stale = run.Known.Differences
            .Where(d => !run.All.Any(c => (d.ReportedBy == KnownDifference.Ours ? c.Ours : c.Firely).Errors.Any(e => d.Covers(d.ReportedBy, e))))
            .Select(d => d.Id)
            .ToList();

        Assert.True(stale.Count == 0, $"No instance shows these known differences any more; remove them from {KnownDifferenceList.RelativePath}: {string.Join(", ", stale)}");
    }

    [Fact]
    public void Every_known_difference_is_explained_and_names_the_side_hl7_takes()
    {
        Assert.NotEmpty(run.Known.Differences);
        Assert.Equal(run.Known.Differences.Count, run.Known.Differences.Select(d => d.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(run.Known.Differences, d =>
        {
            Assert.Contains(d.ReportedBy, new[] { KnownDifference.Ours, KnownDifference.Firely });
            Assert.Contains(d.ReferenceSidesWith, new[] { KnownDifference.Ours, KnownDifference.Firely, "neither", "unverified" });
            Assert.False(string.IsNullOrWhiteSpace(d.Match), d.Id);
            Assert.True(d.Hl7.Length > 40 && d.Why.Length > 40, $"{d.Id}: say what HL7's reference validator does and why the engines differ.");
        });
    }

    /// <summary>Firely's validator is a second opinion for tests only (issue 13): no product project may reference it.</summary>
    [Fact]
    public void No_product_project_references_Firely_validation()
    {
        var projects = Directory.EnumerateFiles(RepositoryRoot.Combine("src"), "*.csproj", SearchOption.AllDirectories).ToList();

        Assert.NotEmpty(projects);
        Assert.All(projects, project => Assert.DoesNotContain(
            XDocument.Load(project).Descendants("PackageReference").Select(r => (string?)r.Attribute("Include")),
            name => name is not null && name.StartsWith("Firely.Fhir.Validation", StringComparison.OrdinalIgnoreCase)));
    }
}
