using System.Globalization;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.App;

/// <summary>
/// Reads what the pages and <c>$case-series-summary</c> draw from the store: a Group's member patients, or every stored
/// patient when no case series is chosen, each with the resources whose subject it is. Page by page, so memory stays
/// bounded whatever the cohort's size; the patient page reads one patient's compartment.
/// </summary>
/// <param name="patientsPerPage">patients read and summarised together (tests use small pages to cross page boundaries).</param>
public sealed class StoredCohortReader(IResourceStore store, int patientsPerPage = StoredCohortReader.PatientsPerPage)
{
    /// <summary>Patients read and summarised together by default: one page's resources are what memory holds at once.</summary>
    public const int PatientsPerPage = 200;

    private const int PageSize = 500;

    /// <summary>The types the summary reads (the same list as <c>$case-series-summary</c>'s access rule).</summary>
    public static readonly IReadOnlyList<string> SummaryTypes = ["Patient", "Condition", "MedicationAdministration", "Procedure", "Observation"];

    /// <summary>The types whose subject ties them to a patient's course (Condition is in the access rule above; no fact is drawn from it).</summary>
    private static readonly string[] SubjectTypes = ["MedicationAdministration", "Procedure", "Observation"];

    public IResourceStore Store => store;

    /// <summary>Every stored Group (the case series), by id.</summary>
    public async Task<IReadOnlyList<Group>> GroupsAsync(CancellationToken cancellationToken)
    {
        var groups = new List<Group>();
        await foreach (var resource in SearchAllAsync("Group", [], cancellationToken))
            if (resource is Group group)
                groups.Add(group);
        return groups.OrderBy(g => g.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Every stored patient (<paramref name="group"/> null) or the Group's member patients, each with its own resources,
    /// into <paramref name="cohort"/>: a page of patients at a time, and for each page one search per type by subject.
    /// Memory holds one page's resources, whatever the cohort's size. Before, every resource of the cohort was held at
    /// once (a 10,000-patient store: 2.4 GB of the service's memory) and a Group's members were read with one
    /// $everything each.
    /// </summary>
    public async Task AccumulateAsync(CohortAccumulator cohort, Group? group, CancellationToken cancellationToken)
    {
        if (group is null)
        {
            await foreach (var page in PatientPagesAsync(cancellationToken))
                await AccumulatePageAsync(cohort, page, cancellationToken);
            return;
        }
        await AccumulateAsync(cohort, group.Member
            .Select(m => m.Entity?.Reference)
            .OfType<string>()
            .Where(r => r.StartsWith("Patient/", StringComparison.Ordinal))
            .Select(r => r["Patient/".Length..])
            .ToList(), cancellationToken);
    }

    /// <summary>The stored patients of <paramref name="patientIds"/> (ids not stored are skipped), each with its own resources.</summary>
    public async Task AccumulateAsync(CohortAccumulator cohort, IReadOnlyList<string> patientIds, CancellationToken cancellationToken)
    {
        foreach (var chunk in patientIds.Where(id => id.Length > 0).Distinct(StringComparer.Ordinal).Chunk(patientsPerPage))
        {
            var patients = new List<Patient>();
            await foreach (var resource in SearchAllAsync("Patient", [new("_id", string.Join(",", chunk))], cancellationToken))
                if (resource is Patient patient)
                    patients.Add(patient);
            await AccumulatePageAsync(cohort, patients, cancellationToken);
        }
    }

    /// <summary>The patient and every resource of its compartment; null when no such patient is stored.</summary>
    public async Task<ResourceSet?> PatientAsync(string patientId, CancellationToken cancellationToken)
    {
        var read = await store.ReadAsync("Patient", patientId, cancellationToken);
        if (read.Status != ReadStatus.Found)
            return null;
        var set = new ResourceSet();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        PageCursor? cursor = null;
        do
        {
            var page = await store.EverythingAsync(new EverythingQuery(patientId, Count: PageSize, Cursor: cursor), cancellationToken);
            foreach (var stored in page.Matches)
                if (stored.Resource is not null && seen.Add($"{stored.ResourceType}/{stored.Id}"))
                    set.Add(stored.Resource);
            cursor = page.Next;
        } while (cursor is not null);
        return set;
    }

    private async IAsyncEnumerable<List<Patient>> PatientPagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var page = new List<Patient>(patientsPerPage);
        await foreach (var resource in SearchAllAsync("Patient", [], cancellationToken))
        {
            if (resource is Patient patient)
                page.Add(patient);
            if (page.Count == patientsPerPage)
            {
                yield return page;
                page = new List<Patient>(patientsPerPage);
            }
        }
        if (page.Count > 0)
            yield return page;
    }

    /// <summary>The patients with the resources whose subject they are, read by type in the order the whole-store read used.</summary>
    private async Task AccumulatePageAsync(CohortAccumulator cohort, IReadOnlyList<Patient> patients, CancellationToken cancellationToken)
    {
        if (patients.Count == 0)
            return;
        var set = new ResourceSet();
        foreach (var patient in patients)
            set.Add(patient);
        var subjects = string.Join(",", patients.Select(p => "Patient/" + p.Id));
        foreach (var type in SubjectTypes)
            await foreach (var resource in SearchAllAsync(type, [new("subject", subjects)], cancellationToken))
                set.Add(resource);
        cohort.AddAll(set);
    }

    private async IAsyncEnumerable<Resource> SearchAllAsync(string type, IReadOnlyList<KeyValuePair<string, string>> criteria,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = SearchQuery.Parse(type, [.. criteria, new("_count", PageSize.ToString(CultureInfo.InvariantCulture))]);
        while (true)
        {
            var page = await store.SearchAsync(query, cancellationToken);
            foreach (var stored in page.Matches)
                if (stored.Resource is not null)
                    yield return stored.Resource;
            if (page.Next is null)
                yield break;
            query = query.WithCursor(page.Next);
        }
    }
}
