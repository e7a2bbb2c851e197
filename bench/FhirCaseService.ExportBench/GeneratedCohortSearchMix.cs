using System.Globalization;
using System.Net;
using System.Text.Json;
using FhirCaseService.BenchSupport;

namespace FhirCaseService.ExportBench;

/// <summary>
/// The main searches' latency (p50/p95 over HTTP, one client, one after another) over a generated cohort that
/// <see cref="ImportBench"/> has just imported: the ApiBench search mix, with the generated cohort's ids, identifiers
/// and codes (seed 1: <c>synthetic-s1-pNNNNNN</c>; LOINC 97509-4 is the disease-status Observation every patient has,
/// <c>mrd</c> the MRD follow-up). The broad sorted searches are the ones issue 11 asks p95 &lt; 20 ms of.
/// </summary>
public static class GeneratedCohortSearchMix
{
    private const string Pseudonym = "https://fhircase.example.org/fhir/sid/case-series-pseudonym";
    private const string Concepts = "https://fhircase.example.org/fhir/CodeSystem/fhircase-concepts";
    private const int Runs = 100;

    public static async Task<IReadOnlyList<(string Label, Latency Latency, double Matches)>> RunAsync(HttpClient client, int patients)
    {
        var random = new Random(42);
        string Number() => $"p{random.Next(1, patients + 1).ToString("D6", CultureInfo.InvariantCulture)}";
        string Someone() => $"synthetic-s1-{Number()}";
        var mix = new (string Label, Func<string> Path)[]
        {
            ("GET Patient/{id}", () => $"/Patient/{Someone()}"),
            ("Patient?identifier=sys|value", () => $"/Patient?identifier={Uri.EscapeDataString($"{Pseudonym}|{Number()}")}"),
            ("Observation?subject=Patient/{id}&code=97509-4", () => $"/Observation?subject=Patient/{Someone()}&code=97509-4"),
            ("Observation?subject:Patient.identifier=...", () => $"/Observation?subject:Patient.identifier={Uri.EscapeDataString($"{Pseudonym}|{Number()}")}"),
            ("Observation?code=mrd&date=ge2021-03&_count=20", () => $"/Observation?code={Uri.EscapeDataString($"{Concepts}|mrd")}&date=ge2021-03&_count=20"),
            ("Observation?code=mrd&_sort=-date&_count=20 (broad, sorted)", () => $"/Observation?code={Uri.EscapeDataString($"{Concepts}|mrd")}&_sort=-date&_count=20"),
            ("Observation?_sort=-date&_count=20 (broadest, sorted)", () => "/Observation?_sort=-date&_count=20"),
            ("Patient?_sort=birthdate&_count=20 (broad, sorted)", () => "/Patient?_sort=birthdate&_count=20"),
            ("Condition?subject={id}&_include=Condition:subject", () => $"/Condition?subject={Someone()}&_include=Condition:subject"),
            ("Patient?_has:Observation:subject:code=51124-6&_count=20", () => "/Patient?_has:Observation:subject:code=51124-6&_count=20"),
            ("Patient/{id}/$everything", () => $"/Patient/{Someone()}/$everything?_count=100"),
        };
        var results = new List<(string, Latency, double)>();
        foreach (var (label, path) in mix)
        {
            var (latency, matches) = await Latency.MeasureAsync(() => GetAsync(client, path()), Runs);
            results.Add((label, latency, matches.Average()));
        }
        return results;
    }

    /// <summary>Entries in the answer (a read counts 1), so a search that matched nothing stands out.</summary>
    private static async Task<int> GetAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("application/fhir+json");
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("entry", out var entries) ? entries.GetArrayLength() : 1;
    }
}
