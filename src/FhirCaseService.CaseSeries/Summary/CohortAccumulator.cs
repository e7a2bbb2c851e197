using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// Builds a cohort's summary (and, when asked, its swimmer-plot events) one patient at a time, so a server can read a
/// large cohort a page of patients at a time and hold only each patient's few facts, never every resource at once.
/// A patient's facts come from its own resources alone (<see cref="PatientTimeline"/> resolves references only among
/// them), so adding the patients in any grouping gives the same result as adding them all in one set.
/// </summary>
public sealed class CohortAccumulator(bool keepEvents)
{
    private readonly List<Entry> _patients = [];

    private sealed record Entry(string Label, string PatientId, PatientCourse Course, ExtramedullaryRelapseAfterHsct? ExtramedullaryRelapse, PatientEvents? Events);

    public int PatientCount => _patients.Count;

    /// <summary>
    /// Adds every Patient of <paramref name="resources"/> with the resources whose subject resolves to it. Resources of
    /// patients outside the set are ignored; each resource is attributed once, so the work grows with the resources.
    /// </summary>
    public void AddAll(ResourceSet resources)
    {
        var bySubject = resources.Resources
            .Select(r => (Resource: r, Subject: resources.Resolve(SubjectReference(r)) as Patient))
            .Where(x => x.Subject is not null)
            .ToLookup(x => (object)x.Subject!, x => x.Resource, ReferenceEqualityComparer.Instance);
        foreach (var patient in resources.OfType<Patient>())
        {
            var own = bySubject[patient].ToList();
            var timeline = PatientTimeline.For(patient, own, resources);
            _patients.Add(new Entry(timeline.Label, patient.Id ?? "", timeline.ToCourse(), timeline.ExtramedullaryRelapse(),
                keepEvents ? timeline.Events(patient, own) : null));
        }
    }

    /// <summary>The headline numbers over every patient added so far.</summary>
    public CohortSummary Summary()
    {
        var ordered = Ordered();
        var perPatient = ordered.Select(p => p.Course).ToList();
        var cycles = perPatient.Where(p => p.AlloHsct).Select(p => p.InoCyclesBeforeHsct).ToList();
        var followUps = perPatient
            .Where(p => p.AlloHsct && !p.RelapseAfterHsct && p.FollowUpMonthsAfterHsct is not null)
            .Select(p => (decimal)p.FollowUpMonthsAfterHsct!.Value)
            .ToList();

        return new CohortSummary(
            Patients: perPatient.Count,
            CarTIndication: Count(perPatient.Select(p => p.CarTIndication)),
            PostCarTRelapsePhenotype: Count(perPatient.Select(p => p.PostCarTRelapsePhenotype)),
            CompleteRemissionAfterFirstInoCycle: perPatient.Count(p => p.CompleteRemissionAfterFirstInoCycle),
            MrdNegativeAfterIno: perPatient.Count(p => p.MrdNegativeAfterIno),
            FewestInoCyclesBeforeHsct: cycles.Count == 0 ? null : cycles.Min(),
            MostInoCyclesBeforeHsct: cycles.Count == 0 ? null : cycles.Max(),
            AlloHsct: perPatient.Count(p => p.AlloHsct),
            IsolatedExtramedullaryRelapsesAfterHsct: ordered.Select(p => p.ExtramedullaryRelapse).OfType<ExtramedullaryRelapseAfterHsct>().ToList(),
            StatusAtLastFollowUp: Count(perPatient.Select(p => p.StatusAtLastFollowUp)),
            MeanFollowUpMonthsAfterHsctWithoutRelapse: followUps.Count == 0 ? null : Math.Round(followUps.Average(), 1, MidpointRounding.AwayFromZero),
            PerPatient: perPatient);
    }

    /// <summary>The ids of the patients added so far, in the summary's order (a page of a large cohort is a slice of it).</summary>
    public IReadOnlyList<string> PatientIds() => Ordered().Select(p => p.PatientId).ToList();

    /// <summary>Every patient's events, in the summary's order; only when the accumulator keeps events.</summary>
    public IReadOnlyList<PatientEvents> Events() => keepEvents
        ? Ordered().Select(p => p.Events!).ToList()
        : throw new InvalidOperationException("This accumulator was made without events.");

    // By label, as the summary names patients; the id breaks ties, so the order does not depend on how patients were read.
    private List<Entry> Ordered() => _patients
        .OrderBy(p => p.Label, StringComparer.Ordinal)
        .ThenBy(p => p.PatientId, StringComparer.Ordinal)
        .ToList();

    private static ResourceReference? SubjectReference(Resource resource) => resource switch
    {
        Observation observation => observation.Subject,
        MedicationAdministration administration => administration.Subject,
        Procedure procedure => procedure.Subject,
        _ => null,
    };

    private static List<CategoryCount> Count(IEnumerable<string?> categories) => categories
        .Select(c => c ?? "not known")
        .GroupBy(c => c, StringComparer.Ordinal)
        .Select(g => new CategoryCount(g.Key, g.Count()))
        .OrderByDescending(c => c.Count)
        .ThenBy(c => c.Category, StringComparer.Ordinal)
        .ToList();
}
