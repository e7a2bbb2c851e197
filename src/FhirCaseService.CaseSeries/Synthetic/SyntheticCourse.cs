using System.Globalization;
using FhirCaseService.CaseSeries.Input;

namespace FhirCaseService.CaseSeries.Synthetic;

/// <summary>
/// One randomized clinical course shaped like the patients of the case series (docs/synthetic-cohort.md): BCP-ALL
/// relapsing once or twice (or refractory at first relapse) before tisagenlecleucel, a relapse after it (mostly
/// CD19-negative, always CD22-positive, with flow cytometry percent and CD22 antigen density), inotuzumab ozogamicin
/// cycles dosed as the label says, complete remission with flow MRD after each step, allo-HSCT for most, and for some
/// an isolated extramedullary relapse treated with radiotherapy or a marrow relapse; then the last follow-up.
/// Every date follows the one before, so the record keeps the rules the reader checks (date order, references).
/// </summary>
internal sealed class SyntheticCourse
{
    /// <summary>Flow cytometry MRD detection limit commonly reached (0.01 %, 1 cell in 10,000).</summary>
    private const decimal FlowLimitOfDetection = 0.01m;

    private static readonly IllustrativeFields NoneIllustrative = new([]);
    private static readonly string[] DonorTypes = ["matched-sibling", "matched-unrelated", "mismatched-unrelated", "haploidentical", "cord-blood"];
    private static readonly string[] Conditionings = ["Total body irradiation and etoposide", "Busulfan, fludarabine and thiotepa", "Treosulfan, fludarabine and thiotepa"];
    private static readonly DateOnly EarliestDiagnosis = new(2005, 1, 1);

    private readonly CourseRandom _random;
    private readonly string _path;
    private readonly string _sex;
    private readonly List<Relapse> _relapses = [];
    private readonly List<InotuzumabCycle> _cycles = [];
    private readonly List<ResponseAssessment> _assessments = [];
    private readonly List<RadiotherapyCourse> _radiotherapy = [];

    private SyntheticCourse(CourseRandom random, int index)
    {
        _random = random;
        _path = $"patients[{(index - 1).ToString(CultureInfo.InvariantCulture)}]";
        _sex = random.Chance(0.5) ? "female" : "male";
    }

    /// <summary>The patient at <paramref name="index"/> (1-based) of the cohort of <paramref name="seed"/>.</summary>
    public static CasePatient Generate(int seed, int index, string pseudonym) =>
        new SyntheticCourse(new CourseRandom(seed, index), index).Build(pseudonym);

    private CasePatient Build(string pseudonym)
    {
        var ageAtDiagnosis = _random.Between(1, 15);
        var diagnosed = EarliestDiagnosis.AddDays(_random.Between(0, 9 * 365));
        var diagnosis = new Diagnosis($"{_path}.diagnosis", Date(diagnosed),
            Fact<string>.Of(_random.Chance(0.6) ? "common-b" : _random.Pick(["pre-b", "pro-b", "b-cell-precursor"])));

        // Before CAR-T: a second relapse (3 in 4 in the paper) or a first relapse refractory to treatment.
        var refractoryFirstRelapse = _random.Chance(0.25);
        var firstRelapse = AddRelapse(diagnosed.AddDays(_random.Between(540, 1440)), BeforeCarTSites(), BeforeCarTAntigens());
        var lastBeforeCarT = refractoryFirstRelapse
            ? firstRelapse
            : AddRelapse(firstRelapse.AddDays(_random.Between(240, 720)), BeforeCarTSites(), BeforeCarTAntigens());
        var priorLines = new List<PriorTherapyLine>
        {
            PriorLine(1, "Frontline chemotherapy"),
            PriorLine(2, refractoryFirstRelapse ? "Relapse chemotherapy (refractory)" : "Relapse chemotherapy"),
        };
        if (!refractoryFirstRelapse)
            priorLines.Add(PriorLine(3, "Second relapse chemotherapy"));

        var carTDate = lastBeforeCarT.AddDays(_random.Between(60, 120));
        var carT = new CarTInfusion($"{_path}.carT", "tisagenlecleucel", Date(carTDate));
        var assessed = AddAssessment(carTDate.AddDays(28), "CR", new TreatmentReference(TreatmentReference.CarT, null), Mrd(0.8m, 0.01m, 0.1m));

        // The relapse after CAR-T that inotuzumab treats: CD22-positive (the drug's target), mostly CD19-negative.
        var relapseAfterCarT = AddRelapse(
            Later(assessed, 60, 480),
            _random.Chance(0.85) ? ["marrow"] : ["marrow", "cns"],
            (_random.Chance(0.75) ? Negative() : Positive(60m, 98m, withDensity: false), Positive(75m, 100m, withDensity: true)));
        var afterInotuzumab = AddInotuzumab(relapseAfterCarT.AddDays(_random.Between(7, 21)));

        Transplant? hsct = null;
        var status = "CR";
        var vital = "alive";
        var lastEvent = afterInotuzumab;
        if (_random.Chance(0.9))
        {
            var transplanted = afterInotuzumab.AddDays(_random.Between(14, 45));
            hsct = new Transplant($"{_path}.hsct", Date(transplanted), Fact<string>.Of(_random.Pick(DonorTypes)), Fact<string>.Of(_random.Pick(Conditionings)));
            lastEvent = AddAssessment(transplanted.AddDays(100), "CR", new TreatmentReference(TreatmentReference.Hsct, null), Mrd(0.95m, 0.01m, 0.05m));
            if (_random.Chance(0.18))
                lastEvent = AddExtramedullaryRelapses(transplanted);
            else if (_random.Chance(0.06))
                (lastEvent, status, vital) = AddMarrowRelapse(lastEvent);
        }
        else if (_random.Chance(0.5))
        {
            (lastEvent, status, vital) = AddMarrowRelapse(lastEvent);
        }

        var followUp = new FollowUp($"{_path}.followUp", Date(lastEvent.AddDays(_random.Between(180, 1100))), Fact<string>.Of(status), Fact<string>.Of(vital));
        return new CasePatient(_path, pseudonym, NoneIllustrative, Fact<string>.Of(_sex), Fact<int>.Of(diagnosed.Year - ageAtDiagnosis),
            Fact<int>.Of(ageAtDiagnosis), diagnosis, _relapses, priorLines, carT, _cycles, _assessments, hsct, _radiotherapy, followUp);
    }

    private DateOnly Later(DateOnly after, int minDays, int maxDays) => after.AddDays(_random.Between(minDays, maxDays));

    private static Fact<PartialDate> Date(DateOnly date) => Fact<PartialDate>.Of(Full(date));

    private static PartialDate Full(DateOnly date) => new(date.Year, date.Month, date.Day);

    private PriorTherapyLine PriorLine(int line, string description) =>
        new($"{_path}.priorTherapyLines[{line - 1}]", line, Fact<string>.Of(description));

    private IReadOnlyList<string> BeforeCarTSites() => _random.Between(1, 20) switch
    {
        <= 16 => ["marrow"],
        <= 18 => ["marrow", "cns"],
        19 => ["cns"],
        _ => _sex == "male" ? ["testis"] : ["marrow"],
    };

    /// <summary>Before CAR-T the blasts carry CD19; CD22 was not always measured.</summary>
    private (AntigenResult Cd19, AntigenResult Cd22) BeforeCarTAntigens() =>
        (Positive(85m, 99.5m, withDensity: false), _random.Chance(0.7) ? Positive(70m, 99.5m, withDensity: true) : AntigenResult.OfStatus(Fact<string>.NotReported));

    private AntigenResult Positive(decimal minPercent, decimal maxPercent, bool withDensity) => new(
        Fact<string>.Of("positive"),
        Fact<decimal>.Of(_random.Decimal(minPercent, maxPercent, 1)),
        withDensity ? Fact<decimal>.Of(_random.Between(15, 80) * 100m) : Fact<decimal>.NotReported);

    private AntigenResult Negative() => new(Fact<string>.Of("negative"), Fact<decimal>.Of(_random.Decimal(0m, 4.9m, 1)), Fact<decimal>.NotReported);

    private DateOnly AddRelapse(DateOnly date, IReadOnlyList<string> sites, (AntigenResult Cd19, AntigenResult Cd22) antigens)
    {
        var number = _relapses.Count + 1;
        _relapses.Add(new Relapse($"{_path}.relapses[{number - 1}]", number, Date(date), Fact<IReadOnlyList<string>>.Of(sites), antigens.Cd19, antigens.Cd22));
        return date;
    }

    /// <summary>
    /// Label dosing: cycle 1 0.8 + 0.5 + 0.5 mg/m2 on days 1, 8, 15; later cycles 0.5 x 3, every 28 days. Complete
    /// remission after cycle 1 (all four of the paper's patients); two cycles before HSCT, a third when MRD was still
    /// detectable after the first (as the label advises). Returns the date of the last assessment.
    /// </summary>
    private DateOnly AddInotuzumab(DateOnly firstDose)
    {
        var cycleStart = firstDose;
        AddCycle(1, cycleStart, 0.8m);
        var firstMrd = Mrd(0.75m, 0.01m, 0.5m);
        AddAssessment(cycleStart.AddDays(_random.Between(21, 27)), _random.Chance(0.85) ? "CR" : "CRi", new TreatmentReference(TreatmentReference.InotuzumabCycle, 1), firstMrd);
        var mrdPositive = firstMrd.Percent.Value is not null;
        var cycles = mrdPositive || _random.Chance(0.2) ? 3 : 2;
        for (var cycle = 2; cycle <= cycles; cycle++)
        {
            cycleStart = cycleStart.AddDays(_random.Between(28, 35));
            AddCycle(cycle, cycleStart, 0.5m);
        }
        return AddAssessment(cycleStart.AddDays(_random.Between(21, 27)), "CR", new TreatmentReference(TreatmentReference.InotuzumabCycle, cycles), Mrd(0.9m, 0.01m, 0.05m));
    }

    private void AddCycle(int cycle, DateOnly start, decimal firstDose)
    {
        var path = $"{_path}.inotuzumabCycles[{cycle - 1}]";
        var doses = new[] { (Day: 1, Dose: firstDose), (Day: 8, Dose: 0.5m), (Day: 15, Dose: 0.5m) }
            .Select((d, i) => new InotuzumabDose($"{path}.doses[{i}]", Date(start.AddDays(d.Day - 1)), d.Day, Fact<decimal>.Of(d.Dose)))
            .ToList();
        _cycles.Add(new InotuzumabCycle(path, cycle, doses));
    }

    /// <summary>Bone marrow MRD by flow cytometry: not detected (with its limit of detection) with the given probability, else a small percentage.</summary>
    private MrdResult Mrd(decimal notDetectedProbability, decimal minPercent, decimal maxPercent)
    {
        var path = $"{_path}.responseAssessments[{_assessments.Count}].mrd";
        var percent = _random.Chance((double)notDetectedProbability) ? null : (decimal?)_random.Decimal(minPercent, maxPercent, 2);
        return new MrdResult(path, Fact<decimal?>.Of(percent), Fact<string>.Of("flow-cytometry"), Fact<decimal>.Of(FlowLimitOfDetection), "bone-marrow");
    }

    private DateOnly AddAssessment(DateOnly date, string response, TreatmentReference treatment, MrdResult mrd)
    {
        _assessments.Add(new ResponseAssessment($"{_path}.responseAssessments[{_assessments.Count}]", Full(date), Fact<string>.Of(response), treatment, mrd));
        return date;
    }

    /// <summary>An isolated extramedullary relapse after HSCT (the paper's eye relapses), a second one at the same site for some, each treated with a radiotherapy course.</summary>
    private DateOnly AddExtramedullaryRelapses(DateOnly transplanted)
    {
        var site = _random.Between(1, 10) switch
        {
            <= 5 => "eye",
            <= 8 => "cns",
            _ => _sex == "male" ? "testis" : "cns",
        };
        var relapsed = AddRelapse(transplanted.AddDays(_random.Between(120, 360)), [site], (AntigenResult.OfStatus(Fact<string>.NotReported), AntigenResult.OfStatus(Fact<string>.NotReported)));
        var assessed = AddRadiotherapy(relapsed, site);
        if (_random.Chance(0.3))
        {
            relapsed = AddRelapse(assessed.AddDays(_random.Between(30, 120)), [site], (AntigenResult.OfStatus(Fact<string>.NotReported), AntigenResult.OfStatus(Fact<string>.NotReported)));
            assessed = AddRadiotherapy(relapsed, site);
        }
        return assessed;
    }

    private DateOnly AddRadiotherapy(DateOnly relapsed, string site)
    {
        var number = _radiotherapy.Count + 1;
        var start = relapsed.AddDays(_random.Between(7, 21));
        var end = start.AddDays(_random.Between(10, 20));
        var laterality = site switch
        {
            "eye" => _random.Chance(0.6) ? "both" : _random.Pick(["right", "left"]),
            "testis" => "both",
            _ => null,
        };
        var description = site switch
        {
            "eye" => laterality == "both" ? "Anterior chambers of both eyes" : $"Anterior chamber of the {laterality} eye",
            "testis" => "Both testes",
            _ => "Craniospinal axis",
        };
        _radiotherapy.Add(new RadiotherapyCourse($"{_path}.radiotherapy[{number - 1}]", Date(start), Date(end), site,
            laterality is null ? Fact<string>.NotReported : Fact<string>.Of(laterality), description,
            Fact<string>.Of(_random.Chance(0.6) ? "palliative" : "curative"), Fact<decimal>.Of(_random.Between(6, 12) * 2m), [_relapses.Count]));
        return AddAssessment(end.AddDays(_random.Between(30, 60)), "CR", new TreatmentReference(TreatmentReference.Radiotherapy, number), Mrd(0.95m, 0.01m, 0.05m));
    }

    /// <summary>A marrow relapse late in the course; the disease status at follow-up is relapse, and some patients die.</summary>
    private (DateOnly LastEvent, string Status, string Vital) AddMarrowRelapse(DateOnly after)
    {
        var relapsed = AddRelapse(after.AddDays(_random.Between(60, 420)), ["marrow"],
            (_random.Chance(0.7) ? Negative() : Positive(50m, 95m, withDensity: false), _random.Chance(0.6) ? Positive(40m, 95m, withDensity: true) : Negative()));
        return (relapsed, "relapse", _random.Chance(0.6) ? "dead" : "alive");
    }
}
