using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// What a swimmer plot of a case series draws, computed from FHIR resources alone by the same code as
/// <see cref="CohortSummaryCalculator"/> (one <c>PatientTimeline</c> per patient), so the plot and the headline numbers
/// beside it can never disagree.
/// </summary>
public sealed record CaseSeriesTimeline(CohortSummary Summary, IReadOnlyList<PatientEvents> Patients)
{
    public static CaseSeriesTimeline Compute(ResourceSet resources)
    {
        var cohort = new CohortAccumulator(keepEvents: true);
        cohort.AddAll(resources);
        return From(cohort);
    }

    /// <summary>The summary and events of every patient an accumulator (made with events) was given.</summary>
    public static CaseSeriesTimeline From(CohortAccumulator cohort) => new(cohort.Summary(), cohort.Events());
}

/// <summary>The event kinds of a swimmer plot; the strings are the pages' contract (<c>data-event</c>, docs/pages.md).</summary>
public static class TimelineEventKinds
{
    public const string CarT = "car-t";
    public const string Relapse = "relapse";
    public const string InoCycle = "ino-cycle";
    public const string CompleteRemission = "complete-remission";
    public const string MrdNegative = "mrd-negative";
    public const string Hsct = "hsct";
    public const string ExtramedullaryRelapse = "extramedullary-relapse";
    public const string Radiotherapy = "radiotherapy";
    public const string LastFollowUp = "last-follow-up";

    /// <summary>In the order a legend lists them.</summary>
    public static IReadOnlyList<string> All { get; } =
        [CarT, Relapse, ExtramedullaryRelapse, InoCycle, CompleteRemission, MrdNegative, Hsct, Radiotherapy, LastFollowUp];
}

/// <summary>
/// One patient's course from its start (CAR-T infusion, or the first relapse without one) to the last disease status.
/// </summary>
/// <param name="PatientId">Patient.id: the key the pages link and mark rows with.</param>
/// <param name="Label">The case-series pseudonym (as the summary names the patient), else the id.</param>
/// <param name="Illustrative">The Patient resource is tagged illustrative.</param>
/// <param name="Events">Every event of the patient, sorted by date; a plot draws those from <paramref name="Start"/> on.</param>
public sealed record PatientEvents(
    string PatientId,
    string Label,
    bool Illustrative,
    DateOnly? Start,
    DateOnly? End,
    PatientCourse Course,
    IReadOnlyList<TimelineEvent> Events,
    IReadOnlyList<MrdResult> Mrd,
    IReadOnlyList<AntigenResult> Antigens)
{
    /// <summary>The events a swimmer row draws: those on or after the start (earlier relapses explain the CAR-T indication instead).</summary>
    public IEnumerable<TimelineEvent> Drawn => Start is DateOnly start ? Events.Where(e => e.Date >= start) : Events;
}

/// <param name="Kind">One of <see cref="TimelineEventKinds"/>.</param>
/// <param name="EndDate">The last day of an event that lasts (an inotuzumab cycle, a radiotherapy course).</param>
/// <param name="Label">A short label drawn beside the marker ("R3 CD19−/CD22+", "C2", "eye").</param>
/// <param name="Detail">One sentence with the values, for tooltips and the text table.</param>
/// <param name="Resource">"Type/id" of the resource the event comes from.</param>
/// <param name="Illustrative">The resource is tagged illustrative (docs/case-series-format.md).</param>
public sealed record TimelineEvent(string Kind, DateOnly Date, DateOnly? EndDate, string Label, string Detail, string Resource, bool Illustrative);

/// <param name="Percent">The measured MRD in % (null when not detected or not given).</param>
/// <param name="LimitOfDetectionPercent">For a non-detected result, the assay's limit of detection in %, when known.</param>
public sealed record MrdResult(DateOnly? Date, bool NotDetected, decimal? Percent, decimal? LimitOfDetectionPercent, string? Method, string Resource, bool Illustrative);

/// <param name="Antigen">"CD19" or "CD22".</param>
/// <param name="Interpretation">Positive, Negative, or null when not given.</param>
/// <param name="Values">The measured values ("62 % of blasts", "antigen density: 2100 molecules/cell").</param>
public sealed record AntigenResult(DateOnly? Date, string Antigen, string? Interpretation, IReadOnlyList<string> Values, string Resource, bool Illustrative);
