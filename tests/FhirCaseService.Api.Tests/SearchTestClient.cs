using System.Net;
using System.Text;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests;

/// <summary>
/// What the search, $everything and case-series tests share: parsing FHIR answers strictly, following page links, and
/// writing fixtures straight into the service's store, each test under an identifier system of its own so tests
/// sharing one host never see each other's data.
/// </summary>
public sealed class SearchTestClient(ServiceHost host)
{
    public HttpClient Http => host.Client;

    public IResourceStore Store => host.Services.GetRequiredService<IResourceStore>();

    public static string NewSystem() => $"urn:test:{Guid.NewGuid():N}";

    public async Task<(HttpStatusCode Status, T Resource)> GetAsync<T>(string pathOrUrl, string? prefer = null) where T : Resource
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathOrUrl);
        if (prefer is not null)
            request.Headers.Add("Prefer", prefer);
        using var response = await Http.SendAsync(request);
        return (response.StatusCode, await ReadAsync<T>(response));
    }

    public async Task<(HttpStatusCode Status, T Resource)> PostFormAsync<T>(string path, string form) where T : Resource
    {
        using var content = new StringContent(form, Encoding.UTF8, "application/x-www-form-urlencoded");
        using var response = await Http.PostAsync(path, content);
        return (response.StatusCode, await ReadAsync<T>(response));
    }

    public static async Task<T> ReadAsync<T>(HttpResponseMessage response) where T : Resource
    {
        var body = await response.Content.ReadAsStringAsync();
        return FhirSerialization.StrictJson.Deserialize<T>(body);
    }

    /// <summary>Every page from <paramref name="firstPath"/> on, following next links until there is none.</summary>
    public async Task<List<Bundle>> AllPagesAsync(string firstPath)
    {
        var pages = new List<Bundle>();
        string? next = firstPath;
        while (next is not null)
        {
            var (status, page) = await GetAsync<Bundle>(next);
            Assert.Equal(HttpStatusCode.OK, status);
            pages.Add(page);
            next = page.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
            Assert.True(pages.Count < 100, "paging does not end");
        }
        return pages;
    }

    public static IEnumerable<Resource> Matches(Bundle bundle) =>
        bundle.Entry.Where(e => e.Search?.Mode == Bundle.SearchEntryMode.Match).Select(e => e.Resource!);

    /// <summary>"Type/id" of each match, in Bundle order.</summary>
    public static List<string> MatchKeys(Bundle bundle) => Matches(bundle).Select(r => $"{r.TypeName}/{r.Id}").ToList();

    public static string? LinkOf(Bundle bundle, string relation) => bundle.Link.FirstOrDefault(l => l.Relation == relation)?.Url;

    public async Task<Patient> CreatePatientAsync(string system, string value, AdministrativeGender gender = AdministrativeGender.Female, string? id = null)
    {
        var patient = new Patient
        {
            Id = id,
            Identifier = [new Identifier(system, value)],
            Gender = gender,
            BirthDate = "2010-05",
            Text = new Narrative { Status = Narrative.NarrativeStatus.Generated, Div = "<div xmlns=\"http://www.w3.org/1999/xhtml\">A test patient</div>" },
        };
        return (Patient)(await Store.CreateAsync(patient)).Resource!;
    }

    public async Task<Observation> CreateObservationAsync(string system, string value, Patient subject, string loincCode, string effective = "2024-03-01")
    {
        var observation = new Observation
        {
            Identifier = [new Identifier(system, value)],
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", loincCode),
            Subject = new ResourceReference($"Patient/{subject.Id}"),
            Effective = new FhirDateTime(effective),
        };
        return (Observation)(await Store.CreateAsync(observation)).Resource!;
    }

    public async Task<Condition> CreateConditionAsync(string system, string value, Patient subject)
    {
        var condition = new Condition
        {
            Identifier = [new Identifier(system, value)],
            Code = new CodeableConcept("http://snomed.info/sct", "277571004"),
            Subject = new ResourceReference($"Patient/{subject.Id}"),
        };
        return (Condition)(await Store.CreateAsync(condition)).Resource!;
    }
}
