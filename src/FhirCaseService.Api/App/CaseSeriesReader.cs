using System.Globalization;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.App;

/// <summary>
/// Reads what the pages draw from the store, the way <c>$case-series-summary</c> reads it: a Group's member patients with
/// their compartments, or every resource of the summary's types when no case series is chosen. Page by page, so memory
/// per page stays bounded whatever the cohort's size.
/// </summary>
public sealed class CaseSeriesReader(IResourceStore store)
{
    private const int PageSize = 500;

    /// <summary>The types the summary reads (the same list as <c>$case-series-summary</c>'s access rule).</summary>
    public static readonly IReadOnlyList<string> SummaryTypes = ["Patient", "Condition", "MedicationAdministration", "Procedure", "Observation"];

    /// <summary>Every stored Group (the case series), by id.</summary>
    public async Task<IReadOnlyList<Group>> GroupsAsync(CancellationToken cancellationToken)
    {
        var groups = new List<Group>();
        await foreach (var resource in SearchAllAsync("Group", cancellationToken))
            if (resource is Group group)
                groups.Add(group);
        return groups.OrderBy(g => g.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<ResourceSet> MembersAsync(Group group, CancellationToken cancellationToken)
    {
        var set = new ResourceSet();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in group.Member)
        {
            var reference = member.Entity?.Reference;
            if (reference is null || !reference.StartsWith("Patient/", StringComparison.Ordinal))
                continue;
            await AddCompartmentAsync(set, seen, reference["Patient/".Length..], cancellationToken);
        }
        return set;
    }

    public async Task<ResourceSet> AllAsync(CancellationToken cancellationToken)
    {
        var set = new ResourceSet();
        foreach (var type in SummaryTypes)
            await foreach (var resource in SearchAllAsync(type, cancellationToken))
                set.Add(resource);
        return set;
    }

    /// <summary>The patient and every resource of its compartment; null when no such patient is stored.</summary>
    public async Task<ResourceSet?> PatientAsync(string patientId, CancellationToken cancellationToken)
    {
        var read = await store.ReadAsync("Patient", patientId, cancellationToken);
        if (read.Status != ReadStatus.Found)
            return null;
        var set = new ResourceSet();
        await AddCompartmentAsync(set, new HashSet<string>(StringComparer.Ordinal), patientId, cancellationToken);
        return set;
    }

    private async Task AddCompartmentAsync(ResourceSet set, HashSet<string> seen, string patientId, CancellationToken cancellationToken)
    {
        PageCursor? cursor = null;
        do
        {
            var page = await store.EverythingAsync(new EverythingQuery(patientId, Count: PageSize, Cursor: cursor), cancellationToken);
            foreach (var stored in page.Matches)
                if (stored.Resource is not null && seen.Add($"{stored.ResourceType}/{stored.Id}"))
                    set.Add(stored.Resource);
            cursor = page.Next;
        } while (cursor is not null);
    }

    private async IAsyncEnumerable<Resource> SearchAllAsync(string type, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = SearchQuery.Parse(type, [new("_count", PageSize.ToString(CultureInfo.InvariantCulture))]);
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
