using System.Globalization;
using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Summary.CohortSummaryCalculator;

namespace FhirCaseService.CaseSeries.Summary;

/// <summary>
/// The same sorted resources the summary reads, turned into dated events for a swimmer plot and a patient page.
/// Kept beside the summary's rules so both see one classification of codes.
/// </summary>
internal sealed partial class PatientTimeline
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <param name="own">The resources whose subject is <paramref name="patient"/> (as given to <see cref="For"/>).</param>
    public PatientEvents Events(Patient patient, IReadOnlyCollection<Resource> own)
    {
        var events = new List<TimelineEvent>();
        if (_carTDate is DateOnly carT && own.OfType<MedicationAdministration>().FirstOrDefault(a =>
                Has(a.Medication as CodeableConcept, Codes.Tisagenlecleucel) && DateOf(a.Effective) == carT) is { } infusion)
            events.Add(new(TimelineEventKinds.CarT, carT, null, "CAR-T", $"Tisagenlecleucel infused {carT:yyyy-MM-dd}.", Key(infusion), IsIllustrative(infusion)));
        events.AddRange(_relapses.Select(RelapseEvent));
        events.AddRange(InoCycleEvents());
        // The last status is drawn as the last follow-up (with its label), not a second time as a remission.
        var lastStatus = LastStatus()?.Observation;
        events.AddRange(_statuses
            .Where(s => s.Date is not null && StatusLabel(s.Observation) is "CR" or "CRi" && !ReferenceEquals(s.Observation, lastStatus))
            .Select(s => new TimelineEvent(TimelineEventKinds.CompleteRemission, s.Date!.Value, null, StatusLabel(s.Observation)!,
                $"{StatusText(s.Observation)} on {s.Date:yyyy-MM-dd}.", Key(s.Observation), IsIllustrative(s.Observation))));
        events.AddRange(_mrd
            .Where(m => m.Date is not null && m.Observation.Value is CodeableConcept value && Has(value, Codes.NotDetected))
            .Select(m => new TimelineEvent(TimelineEventKinds.MrdNegative, m.Date!.Value, null, "MRD−",
                $"MRD not detected on {m.Date:yyyy-MM-dd} (limit of detection {LimitText(LimitOfDetection(m.Observation))}).", Key(m.Observation), IsIllustrative(m.Observation))));
        if (_hsctDate is DateOnly hsct && own.OfType<Procedure>().FirstOrDefault(p => Has(p.Code, Codes.Hsct) && DateOf(p.Performed) == hsct) is { } transplant)
            events.Add(new(TimelineEventKinds.Hsct, hsct, null, "HSCT", $"{transplant.Code?.Text ?? "Stem cell transplantation"} on {hsct:yyyy-MM-dd}{DonorText(transplant)}.",
                Key(transplant), IsIllustrative(transplant)));
        events.AddRange(_radiotherapy
            .Where(p => DateOf(p.Performed) is not null)
            .Select(RadiotherapyEvent));
        if (LastStatus() is { Date: DateOnly last } status)
            events.Add(new(TimelineEventKinds.LastFollowUp, last, null, StatusLabel(status.Observation) ?? "status unknown",
                $"Last follow-up {last:yyyy-MM-dd}: {StatusText(status.Observation)}.", Key(status.Observation), IsIllustrative(status.Observation)));

        var sorted = events.OrderBy(e => e.Date).ThenBy(e => TimelineEventKindOrder(e.Kind)).ToList();
        var start = _carTDate ?? _relapses.Select(r => (DateOnly?)r.Date).FirstOrDefault() ?? sorted.Select(e => (DateOnly?)e.Date).FirstOrDefault();
        var end = LastStatus()?.Date ?? sorted.Select(e => (DateOnly?)(e.EndDate ?? e.Date)).LastOrDefault();
        return new PatientEvents(patient.Id ?? Label, Label, IsIllustrative(patient), start, end, ToCourse(), sorted,
            _mrd.OrderBy(m => m.Date).Select(m => MrdResultOf(m.Observation, m.Date)).ToList(),
            _antigens.OrderBy(a => DateOf(a.Effective)).Select(AntigenResultOf).ToList());
    }

    private static readonly Dictionary<string, int> KindOrder = TimelineEventKinds.All.Select((kind, i) => (kind, i)).ToDictionary(x => x.kind, x => x.i);

    private static int TimelineEventKindOrder(string kind) => KindOrder[kind];

    private TimelineEvent RelapseEvent((Observation Observation, DateOnly Date, int? Number) relapse)
    {
        var sites = ReportedSiteCodings(relapse.Observation);
        var extramedullary = sites.Count > 0 && sites.All(s => s.Code != "marrow");
        var siteText = string.Join(", ", sites.Select(s => s.Display ?? s.Code));
        var onRelapse = _antigens.Where(a => a.Focus.Any(f => ReferenceEquals(_resources.Resolve(f), relapse.Observation))).ToList();
        var phenotype = onRelapse.Count == 0 ? null
            : $"CD19{Sign(Antigen(onRelapse, Codes.Cd19Blasts))}/CD22{Sign(Antigen(onRelapse, Codes.Cd22Blasts))}";
        var name = relapse.Number is int n ? $"R{n}" : "R";
        var label = extramedullary ? $"{name} {siteText}" : phenotype is null ? name : $"{name} {phenotype}";
        var detail = $"Relapse{(relapse.Number is int number ? " " + number.ToString(Invariant) : "")} on {relapse.Date:yyyy-MM-dd}"
                     + (siteText.Length > 0 ? $", site: {siteText}" : "")
                     + (phenotype is null ? "" : $", blasts {phenotype}") + ".";
        return new TimelineEvent(extramedullary ? TimelineEventKinds.ExtramedullaryRelapse : TimelineEventKinds.Relapse,
            relapse.Date, null, label, detail, Key(relapse.Observation), IsIllustrative(relapse.Observation));
    }

    private static string Sign(string antigen) => antigen switch { "pos" => "+", "neg" => "−", _ => "?" };

    /// <summary>One event per cycle, from its first to its last dose; doses without a cycle number are events of their own.</summary>
    private IEnumerable<TimelineEvent> InoCycleEvents() => _inotuzumab
        .Where(i => i.Date is not null)
        .GroupBy(i => i.Cycle is int cycle ? $"cycle {cycle}" : Key(i.Administration))
        .Select(g => g.OrderBy(i => i.Date).ToList())
        .Select(doses =>
        {
            var first = doses[0];
            var last = doses[^1].Date!.Value;
            var amounts = string.Join(", ", doses.Select(d => $"{d.Date:yyyy-MM-dd}{DoseText(d.Administration)}"));
            return new TimelineEvent(TimelineEventKinds.InoCycle, first.Date!.Value, last > first.Date ? last : null,
                first.Cycle is int cycle ? $"C{cycle}" : "InO",
                $"Inotuzumab ozogamicin{(first.Cycle is int c ? " cycle " + c.ToString(Invariant) : "")}: {doses.Count} dose{(doses.Count == 1 ? "" : "s")} ({amounts}).",
                Key(first.Administration), doses.Any(d => IsIllustrative(d.Administration)));
        });

    private static string DoseText(MedicationAdministration administration) =>
        administration.Dosage?.Dose is { Value: decimal value } dose ? $" {value.ToString(Invariant)} {dose.Unit ?? dose.Code}" : "";

    private static TimelineEvent RadiotherapyEvent(Procedure procedure)
    {
        var start = DateOf(procedure.Performed)!.Value;
        var end = procedure.Performed is Period { End: { } endText } && DateOf(new FhirDateTime(endText)) is DateOnly e && e > start ? e : (DateOnly?)null;
        var sites = procedure.BodySite.Select(s => s.Text ?? s.Coding.FirstOrDefault()?.Display ?? s.Coding.FirstOrDefault()?.Code).OfType<string>().ToList();
        var intent = procedure.GetExtensionValue<CodeableConcept>(FhirCaseCanonicals.Extensions.TreatmentIntent)?.Coding.FirstOrDefault()?.Display;
        return new TimelineEvent(TimelineEventKinds.Radiotherapy, start, end, "RT",
            $"Radiotherapy {start:yyyy-MM-dd}{(end is null ? "" : $" to {end:yyyy-MM-dd}")}"
            + (sites.Count > 0 ? $", {string.Join(", ", sites)}" : "") + (intent is null ? "" : $" ({intent})") + ".",
            Key(procedure), IsIllustrative(procedure));
    }

    private static string DonorText(Procedure transplant) =>
        transplant.GetExtensionValue<CodeableConcept>(FhirCaseCanonicals.Extensions.DonorType)?.Coding.FirstOrDefault()?.Display is { } donor ? $", donor: {donor}" : "";

    private static string StatusText(Observation status) =>
        (status.Value as CodeableConcept)?.Coding.FirstOrDefault()?.Display ?? StatusLabel(status) ?? "status not given";

    private static decimal? LimitOfDetection(Observation mrd) =>
        (mrd.GetExtensionValue<Quantity>(FhirCaseCanonicals.Extensions.MrdLimitOfDetection))?.Value;

    private static string LimitText(decimal? limit) => limit is decimal l ? $"{l.ToString(Invariant)} %" : "not reported";

    private static MrdResult MrdResultOf(Observation mrd, DateOnly? date)
    {
        var notDetected = mrd.Value is CodeableConcept value && Has(value, Codes.NotDetected);
        var method = mrd.Method?.Coding.FirstOrDefault() is { } coding ? coding.Display ?? coding.Code : mrd.Method?.Text;
        return new MrdResult(date, notDetected, (mrd.Value as Quantity)?.Value, notDetected ? LimitOfDetection(mrd) : null, method, Key(mrd), IsIllustrative(mrd));
    }

    private static AntigenResult AntigenResultOf(Observation observation)
    {
        var values = new List<string>();
        if (observation.Value is Quantity { Value: decimal percent } quantity)
            values.Add($"{percent.ToString(Invariant)} {quantity.Unit ?? quantity.Code} of blasts");
        foreach (var component in observation.Component)
            if (component.Value is Quantity { Value: decimal amount } measured)
                values.Add($"{component.Code?.Coding.FirstOrDefault()?.Display ?? component.Code?.Text ?? "component"}: {amount.ToString(Invariant)} {measured.Unit ?? measured.Code}");
        return new AntigenResult(DateOf(observation.Effective), Has(observation.Code, Codes.Cd19Blasts) ? "CD19" : "CD22",
            observation.Interpretation.FirstOrDefault()?.Coding.FirstOrDefault()?.Display, values, Key(observation), IsIllustrative(observation));
    }

    private static string Key(Resource resource) => $"{resource.TypeName}/{resource.Id}";

    private static bool IsIllustrative(Resource resource) =>
        resource.Meta?.Tag.Any(t => t.System == FhirCaseCanonicals.CodeSystems.DataProvenance && t.Code == "illustrative") == true;
}
