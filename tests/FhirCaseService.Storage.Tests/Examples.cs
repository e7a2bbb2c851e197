using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.Storage.Tests;

/// <summary>
/// The valid example per profile (examples/resources, copied beside the tests): one patient's consistent record.
/// <see cref="Record"/> renames every "example-" id and reference so several patients can live in one store.
/// </summary>
public static class Examples
{
    private static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "examples");

    public static T Load<T>(string file, string? prefix = null) where T : Resource => (T)Parse(File.ReadAllText(Path.Combine(Directory, file)), prefix);

    /// <summary>All twelve resources of one patient; ids become "{prefix}-..." and the pseudonym "{prefix}".</summary>
    public static IReadOnlyList<Resource> Record(string prefix) =>
        System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal)
            .Select(f => Parse(File.ReadAllText(f), prefix))
            .ToList();

    public static Patient Patient(string prefix) => Load<Patient>("Patient-example-patient.json", prefix);

    private static Resource Parse(string json, string? prefix)
    {
        if (prefix is not null)
            json = ExampleIds.Rename(json, prefix);
        return FhirSerialization.StrictJson.DeserializeResource(json);
    }
}
