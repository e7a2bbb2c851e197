using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Summary.CohortSummaryCalculator;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>One patient's resources, sorted into the events the cohort summary asks about.</summary>
internal sealed partial class PatientTimeline
{
    private readonly ResourceSet _resources;

    private PatientTimeline(string label, ResourceSet resources)
    {
        Label = label;
        _resources = resources;
    }

    public string Label { get; }

    private List<(Observation Observation, DateOnly? Date)> _statuses = [];
    private List<(Observation Observation, DateOnly Date, int? Number)> _relapses = [];
    private readonly List<Observation> _antigens = [];
    private readonly List<(Observation Observation, DateOnly? Date)> _mrd = [];
    private readonly List<(MedicationAdministration Administration, DateOnly? Date, int? Cycle)> _inotuzumab = [];
    private DateOnly? _carTDate;
    private DateOnly? _hsctDate;
    private bool _hsct;
    private readonly List<Procedure> _radiotherapy = [];

    private IReadOnlyList<(Observation Observation, DateOnly Date, int? Number)> RelapsesAfterHsct =>
        _hsctDate is DateOnly hsct ? _relapses.Where(r => r.Date > hsct).ToList() : [];

    /// <param name="own">The resources whose subject is <paramref name="patient"/>.</param>
    public static PatientTimeline For(Patient patient, IReadOnlyCollection<Resource> own, ResourceSet resources)
    {
        var label = patient.Identifier.FirstOrDefault(i => i.System == FhirCaseCanonicals.PseudonymSystem)?.Value ?? patient.Id ?? "(no id)";
        var timeline = new PatientTimeline(label, resources);

        foreach (var observation in own.OfType<Observation>())
        {
            var date = DateOf(observation.Effective);
            if (Has(observation.Code, Codes.CancerDiseaseStatus))
            {
                timeline._statuses.Add((observation, date));
                if (observation.Value is CodeableConcept value && Has(value, Codes.RelapsePhase) && date is DateOnly relapseDate)
                    timeline._relapses.Add((observation, relapseDate, (observation.GetExtensionValue<PositiveInt>(FhirCaseCanonicals.Extensions.RelapseNumber))?.Value));
            }
            else if (Has(observation.Code, Codes.Cd19Blasts) || Has(observation.Code, Codes.Cd22Blasts))
                timeline._antigens.Add(observation);
            else if (Has(observation.Code, Codes.Mrd))
                timeline._mrd.Add((observation, date));
        }
        foreach (var administration in own.OfType<MedicationAdministration>())
        {
            var medication = administration.Medication as CodeableConcept;
            var date = DateOf(administration.Effective);
            if (Has(medication, Codes.Inotuzumab))
            {
                var cycle = administration.GetExtension(FhirCaseCanonicals.Extensions.InoCycle)?
                    .GetExtensionValue<PositiveInt>(FhirCaseCanonicals.Extensions.InoCycleNumber)?.Value;
                timeline._inotuzumab.Add((administration, date, cycle));
            }
            else if (Has(medication, Codes.Tisagenlecleucel) && date is DateOnly infused && (timeline._carTDate is null || infused < timeline._carTDate))
                timeline._carTDate = infused;
        }
        foreach (var procedure in own.OfType<Procedure>())
        {
            if (Has(procedure.Code, Codes.Hsct) && procedure.Status == EventStatus.Completed)
            {
                timeline._hsct = true;
                var date = DateOf(procedure.Performed);
                if (date is not null && (timeline._hsctDate is null || date < timeline._hsctDate))
                    timeline._hsctDate = date;
            }
            else if (Has(procedure.Code, Codes.RadiotherapyCourse))
                timeline._radiotherapy.Add(procedure);
        }
        timeline._relapses = timeline._relapses.OrderBy(r => r.Date).ToList();
        timeline._statuses = timeline._statuses.OrderBy(s => s.Date).ToList();
        return timeline;
    }

    public PatientCourse ToCourse() => new(
        Label,
        CarTIndication(),
        PostCarTRelapsePhenotype(),
        CompleteRemissionAfterFirstInoCycle(),
        MrdNegativeAfterIno(),
        InoCyclesBeforeHsct(),
        _hsct,
        RelapsesAfterHsct.Count > 0,
        ExtramedullaryRelapse() is not null,
        _hsctDate is DateOnly hsct && LastStatus() is { Date: DateOnly last } ? MonthsBetween(hsct, last) : null,
        LastStatus() is { } status ? StatusLabel(status.Observation) : null);

    /// <summary>"after second relapse" or "refractory first relapse": the relapses before CAR-T, and whether the last one was refractory.</summary>
    private string? CarTIndication()
    {
        if (_carTDate is not DateOnly carT)
            return null;
        var before = _relapses.Where(r => r.Date <= carT).ToList();
        if (before.Count == 0)
            return "no relapse before CAR-T";
        var number = before.Max(r => r.Number ?? 0) is var n and > 0 ? n : before.Count;
        var lastRelapse = before[^1].Date;
        var refractory = _statuses.Any(s => s.Date is DateOnly d && d >= lastRelapse && d <= carT && StatusLabel(s.Observation) is "refractory" or "no response");
        return refractory ? $"refractory {Ordinal(number)} relapse" : $"after {Ordinal(number)} relapse";
    }

    private static string Ordinal(int n) => n switch
    {
        1 => "first", 2 => "second", 3 => "third", 4 => "fourth", 5 => "fifth",
        _ => $"{n}th",
    };

    private string? PostCarTRelapsePhenotype()
    {
        if (_carTDate is not DateOnly carT || _relapses.FirstOrDefault(r => r.Date > carT) is not { Observation: not null } relapse)
            return null;
        var onRelapse = _antigens.Where(a => a.Focus.Any(f => ReferenceEquals(_resources.Resolve(f), relapse.Observation))).ToList();
        return $"CD19-{Antigen(onRelapse, Codes.Cd19Blasts)}/CD22-{Antigen(onRelapse, Codes.Cd22Blasts)}";
    }

    private static string Antigen(IEnumerable<Observation> observations, Coding code)
    {
        var observation = observations.FirstOrDefault(o => Has(o.Code, code));
        var interpretation = observation?.Interpretation.FirstOrDefault();
        return Has(interpretation, Codes.Positive) ? "pos" : Has(interpretation, Codes.Negative) ? "neg" : "unknown";
    }

    private bool CompleteRemissionAfterFirstInoCycle() => _statuses.Any(s =>
        StatusLabel(s.Observation) == "CR"
        && s.Observation.GetExtension(FhirCaseCanonicals.Extensions.AssessedTreatment)?.Value is ResourceReference treatment
        && _inotuzumab.Any(i => i.Cycle == 1 && ReferenceEquals(_resources.Resolve(treatment), i.Administration)));

    /// <summary>MRD not detected in a sample taken after the first inotuzumab dose and before HSCT.</summary>
    private bool MrdNegativeAfterIno()
    {
        var firstDose = _inotuzumab.Select(i => i.Date).Where(d => d is not null).Min();
        if (firstDose is null)
            return false;
        return _mrd.Any(m => m.Date >= firstDose && (_hsctDate is null || m.Date <= _hsctDate)
            && m.Observation.Value is CodeableConcept value && Has(value, Codes.NotDetected));
    }

    private int InoCyclesBeforeHsct() => _inotuzumab
        .Where(i => _hsctDate is null || i.Date is null || i.Date < _hsctDate)
        .Select(i => i.Cycle)
        .Where(c => c is not null)
        .Distinct()
        .Count();

    private (Observation Observation, DateOnly? Date)? LastStatus() =>
        _statuses.Count == 0 ? null : _statuses.Where(s => s.Date is not null).DefaultIfEmpty(_statuses[^1]).Last();

    private static IReadOnlyList<string> Sites(Observation relapse) => ReportedSiteCodings(relapse)
        .Select(c => c.Code)
        .OfType<string>()
        .ToList();

    /// <summary>
    /// The relapse's sites as coded, without our "not-reported" concept: a relapse whose site the source does not report
    /// has no known site, so it counts neither as a marrow nor as an extramedullary relapse.
    /// </summary>
    private static List<Coding> ReportedSiteCodings(Observation relapse) => relapse.Extension
        .Where(e => e.Url == FhirCaseCanonicals.Extensions.RelapseSite)
        .Select(e => e.Value)
        .OfType<CodeableConcept>()
        .SelectMany(c => c.Coding)
        .Where(c => !(c.System == Codes.RelapseSiteNotReported.System && c.Code == Codes.RelapseSiteNotReported.Code))
        .ToList();

    /// <summary>Relapses after HSCT at extramedullary sites only, with the radiotherapy that treated them and the status at last follow-up.</summary>
    public ExtramedullaryRelapseAfterHsct? ExtramedullaryRelapse()
    {
        var after = RelapsesAfterHsct;
        if (after.Count == 0 || _hsctDate is not DateOnly hsct)
            return null;
        var sites = after.SelectMany(r => Sites(r.Observation)).Distinct().ToList();
        if (sites.Count == 0 || sites.Contains("marrow"))
            return null;

        var treating = _radiotherapy.Where(p =>
            p.ReasonReference.Any(r => after.Any(a => ReferenceEquals(_resources.Resolve(r), a.Observation)))
            || (DateOf(p.Performed) is DateOnly start && start >= after[0].Date)).ToList();
        var palliative = treating.Any(p => Has(p.GetExtensionValue<CodeableConcept>(FhirCaseCanonicals.Extensions.TreatmentIntent), Codes.TreatmentIntent("palliative")));
        var bodySites = treating.SelectMany(p => p.BodySite).Select(BodySiteText).Distinct().ToList();
        var last = LastStatus();
        return new ExtramedullaryRelapseAfterHsct(
            Label,
            after.Select(r => MonthsBetween(hsct, r.Date)).ToList(),
            sites,
            bodySites,
            palliative,
            last?.Date is DateOnly lastDate ? MonthsBetween(after[^1].Date, lastDate) : null,
            last is { } status ? StatusLabel(status.Observation) : null);
    }

    private static string BodySiteText(CodeableConcept site)
    {
        var text = site.Text ?? site.Coding.FirstOrDefault()?.Display ?? site.Coding.FirstOrDefault()?.Code ?? "unspecified site";
        var laterality = site.GetExtensionValue<CodeableConcept>(FhirCaseCanonicals.Extensions.Laterality)?.Coding.FirstOrDefault()?.Display;
        return laterality is null ? text : $"{text} ({laterality})";
    }
}
