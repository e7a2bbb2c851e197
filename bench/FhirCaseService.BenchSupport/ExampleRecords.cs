using FhirCaseService.TestSupport;

namespace FhirCaseService.BenchSupport;

/// <summary>The valid example per profile (examples/resources): one patient's record, copied under fresh ids per patient.</summary>
public sealed class ExampleRecords
{
    private ExampleRecords(IReadOnlyList<string> templates) => Templates = templates;

    /// <summary>The example files' JSON, in file-name order.</summary>
    public IReadOnlyList<string> Templates { get; }

    public int Count => Templates.Count;

    /// <param name="directory">examples/resources of the repository the bench runs from, unless given.</param>
    public static ExampleRecords Load(string? directory = null) => new(
        Directory.GetFiles(directory ?? DefaultDirectory, "*.json").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList());

    public static string DefaultDirectory => RepositoryRoot.Combine("examples", "resources");

    /// <summary>The record's JSON with every id, reference and the pseudonym renamed after <paramref name="prefix"/>.</summary>
    public IEnumerable<string> For(string prefix) => Templates.Select(json => ExampleIds.Rename(json, prefix));
}
