using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;

using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.App;

/// <summary>
/// The whole cohort's summary and patient order, kept for the store's last committed change: a cohort of thousands
/// takes a minute to read (every resource of every patient is parsed), while paging its plot or asking again before
/// anything changed should not. Any committed write moves the change sequence and so retires what was kept; concurrent
/// requests for the same cohort and change share one computation.
/// </summary>
public sealed class CohortSummaryCache
{
    private const int Kept = 4;

    private readonly Lock _gate = new();
    private readonly List<(string Key, Task<CohortFacts> Facts)> _entries = [];

    /// <summary>The summary over every patient and their ids in the summary's order.</summary>
    public sealed record CohortFacts(CohortSummary Summary, IReadOnlyList<string> PatientIds);

    public async Task<CohortFacts> GetAsync(IResourceStore store, Group? group, CancellationToken cancellationToken)
    {
        var change = await store.CurrentChangeAsync(cancellationToken);
        var key = $"{group?.Id}|{change.Sequence}";
        Task<CohortFacts> facts;
        lock (_gate)
        {
            var kept = _entries.FirstOrDefault(e => e.Key == key && !e.Facts.IsFaulted && !e.Facts.IsCanceled);
            if (kept.Facts is not null)
                facts = kept.Facts;
            else
            {
                _entries.RemoveAll(e => e.Key == key);
                // Run apart from the first caller's cancellation: others may wait on it, and it is kept for them.
                facts = Task.Run(() => ComputeAsync(store, group));
                _entries.Insert(0, (key, facts));
                while (_entries.Count > Kept)
                    _entries.RemoveAt(_entries.Count - 1);
            }
        }
        return await facts.WaitAsync(cancellationToken);
    }

    private static async Task<CohortFacts> ComputeAsync(IResourceStore store, Group? group)
    {
        var cohort = new CohortAccumulator(keepEvents: false);
        await new StoredCohortReader(store).AccumulateAsync(cohort, group, CancellationToken.None);
        return new CohortFacts(cohort.Summary(), cohort.PatientIds());
    }
}
