using System.Reflection;

namespace FhirCaseService.Api.Startup;

/// <summary>
/// The case-series records of examples/case-series, embedded in this assembly at build time, so they travel with any
/// build or publish output, with no repository beside it.
/// </summary>
public static class ExampleCaseSeries
{
    private const string Prefix = "fhircase-examples/case-series/";

    /// <summary>File name and UTF-8 JSON of each embedded record, in name order.</summary>
    public static IEnumerable<(string Name, byte[] Json)> All()
    {
        var assembly = typeof(ExampleCaseSeries).Assembly;
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            yield return (name[Prefix.Length..], buffer.ToArray());
        }
    }
}
