using FhirCaseService.CaseSeries.Synthetic;
using System.Text.Json.Nodes;
using FhirCaseService.TestSupport;

namespace FhirCaseService.Validation.Differential.Tests;

/// <summary>One instance both engines judge: a repository-relative name (with #line for an NDJSON line) and its JSON.</summary>
public sealed record Instance(string Name, string Json);

/// <summary>
/// What the engines are compared on: examples/resources, examples/bundles, examples/invalid (sidecars excluded) and a
/// synthetic cohort from the generator behind <c>fhircase generate</c>, both as per-patient transaction Bundles and as
/// the same resources one by one (NDJSON); and the example resources each without one of their top-level elements.
/// </summary>
public static class DifferentialCorpus
{
    public const int CohortPatients = 6;
    public const int CohortSeed = 1;

    public static IReadOnlyList<string> ExampleFolders { get; } = ["examples/resources", "examples/bundles", "examples/invalid"];

    public static IEnumerable<Instance> Examples() => ExampleFolders
        .SelectMany(folder => Directory.EnumerateFiles(RepositoryRoot.Combine(folder.Split('/')), "*.json")
            .Where(f => !f.EndsWith(".expected.json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => new Instance($"{folder}/{Path.GetFileName(f)}", File.ReadAllText(f))));

    /// <summary>
    /// Every valid example resource once without each of its top-level elements: instances that break cardinality,
    /// slices and invariants of our profiles in ways nobody wrote an example for.
    /// </summary>
    public static IEnumerable<Instance> Reductions() => Examples()
        .Where(e => e.Name.StartsWith("examples/resources/", StringComparison.Ordinal))
        .SelectMany(example =>
        {
            var resource = JsonNode.Parse(example.Json)!.AsObject();
            return resource.Select(p => p.Key).Where(k => k != "resourceType").Order(StringComparer.Ordinal).Select(property =>
            {
                var reduced = resource.DeepClone().AsObject();
                reduced.Remove(property);
                return new Instance($"{example.Name} without {property}", reduced.ToJsonString());
            }).ToList();
        });

    public static async Task<IReadOnlyList<Instance>> CohortAsync()
    {
        var instances = new List<Instance>();
        var root = Directory.CreateTempSubdirectory("fhircase-differential-");
        try
        {
            var bundles = Path.Combine(root.FullName, "bundles");
            await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(CohortPatients, CohortSeed), SyntheticOutputFormat.Bundles, bundles);
            instances.AddRange(Directory.EnumerateFiles(bundles, "*.json").Order(StringComparer.Ordinal)
                .Select(f => new Instance($"cohort/bundles/{Path.GetFileName(f)}", File.ReadAllText(f))));

            var ndjson = Path.Combine(root.FullName, "ndjson");
            await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(CohortPatients, CohortSeed), SyntheticOutputFormat.Ndjson, ndjson);
            foreach (var file in Directory.EnumerateFiles(ndjson, "*.ndjson").Order(StringComparer.Ordinal))
            {
                var lines = File.ReadAllLines(file);
                for (var i = 0; i < lines.Length; i++)
                {
                    if (lines[i].Length > 0)
                        instances.Add(new Instance($"cohort/ndjson/{Path.GetFileName(file)}#{i + 1}", lines[i]));
                }
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
        return instances;
    }
}
