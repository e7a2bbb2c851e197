namespace FhirCaseService.CaseSeries.Input;

/// <summary>
/// Rules across the fields of one patient: dates in an order that can happen, and references
/// (afterTreatment, forRelapses) that name something the record holds. Partial dates are compared as
/// ranges, so only an order that is impossible whatever the unknown day or month is reported.
/// </summary>
internal static class PatientConsistency
{
    public static void Check(CasePatient patient, ReadErrors errors)
    {
        CheckAgainstDiagnosis(patient, errors);
        CheckRelapseOrder(patient, errors);
        CheckInotuzumabOrder(patient, errors);
        CheckRadiotherapy(patient, errors);
        CheckAssessments(patient, errors);
        CheckFollowUp(patient, errors);
    }

    private static void CheckAgainstDiagnosis(CasePatient patient, ReadErrors errors)
    {
        if (patient.BirthYear.TryGetValue(out var birthYear) && patient.Diagnosis.Date.TryGetValue(out var diagnosed) && diagnosed.Year < birthYear)
            errors.Add(patient.Diagnosis.Path + ".date", InputRules.DateOrder, $"diagnosis ({diagnosed}) is before the birth year {birthYear}");
        if (!patient.Diagnosis.Date.TryGetValue(out var diagnosis))
            return;
        foreach (var (path, date) in DatedEvents(patient).Where(e => e.Path != patient.Diagnosis.Path + ".date"))
            if (date.IsCertainlyBefore(diagnosis))
                errors.Add(path, InputRules.DateOrder, $"{date} is before the diagnosis ({diagnosis})");
    }

    private static void CheckRelapseOrder(CasePatient patient, ReadErrors errors)
    {
        foreach (var duplicate in patient.Relapses.GroupBy(r => r.Number).Where(g => g.Count() > 1))
            errors.Add(duplicate.Last().Path + ".number", InputRules.Duplicate, $"relapse number {duplicate.Key} is used twice");
        var ordered = patient.Relapses.OrderBy(r => r.Number).ToList();
        for (var i = 1; i < ordered.Count; i++)
            if (ordered[i].Date.TryGetValue(out var later) && ordered[i - 1].Date.TryGetValue(out var earlier) && later.IsCertainlyBefore(earlier))
                errors.Add(ordered[i].Path + ".date", InputRules.DateOrder, $"relapse {ordered[i].Number} ({later}) is dated before relapse {ordered[i - 1].Number} ({earlier})");
    }

    private static void CheckInotuzumabOrder(CasePatient patient, ReadErrors errors)
    {
        PartialDate? previousCycleLast = null;
        foreach (var cycle in patient.InotuzumabCycles.OrderBy(c => c.Cycle))
        {
            PartialDate? previous = null;
            foreach (var dose in cycle.Doses.OrderBy(d => d.Day))
            {
                if (!dose.Date.TryGetValue(out var date))
                    continue;
                if (previous is PartialDate p && date.IsCertainlyBefore(p))
                    errors.Add(dose.Path + ".date", InputRules.DateOrder, $"cycle day {dose.Day} ({date}) is dated before an earlier day of the cycle ({p})");
                if (previous is null && previousCycleLast is PartialDate last && date.IsCertainlyBefore(last))
                    errors.Add(dose.Path + ".date", InputRules.DateOrder, $"cycle {cycle.Cycle} starts ({date}) before the previous cycle's last dose ({last})");
                previous = date;
            }
            previousCycleLast = previous ?? previousCycleLast;
        }
    }

    private static void CheckRadiotherapy(CasePatient patient, ReadErrors errors)
    {
        foreach (var course in patient.Radiotherapy)
        {
            if (course.StartDate.TryGetValue(out var start) && course.EndDate.TryGetValue(out var end) && end.IsCertainlyBefore(start))
                errors.Add(course.Path + ".endDate", InputRules.DateOrder, $"the course ends ({end}) before it starts ({start})");
            foreach (var number in course.ForRelapses.Where(n => patient.Relapses.All(r => r.Number != n)))
                errors.Add(course.Path + ".forRelapses", InputRules.UnknownReference, $"relapse {number} is not in this patient's 'relapses'");
        }
    }

    private static void CheckAssessments(CasePatient patient, ReadErrors errors)
    {
        foreach (var assessment in patient.ResponseAssessments)
        {
            if (assessment.AfterTreatment is not TreatmentReference reference)
                continue;
            var path = assessment.Path + ".afterTreatment";
            var (found, treatmentDate) = Resolve(patient, reference);
            if (!found)
            {
                errors.Add(path, InputRules.UnknownReference, $"'{reference}' names a treatment this patient's record does not hold");
                continue;
            }
            if (treatmentDate is PartialDate given && assessment.Date.IsCertainlyBefore(given))
                errors.Add(assessment.Path + ".date", InputRules.DateOrder, $"the assessment ({assessment.Date}) is before the treatment it follows, {reference} ({given})");
        }
    }

    /// <summary>Whether the reference names a treatment of the patient, and the date that treatment started, when known.</summary>
    internal static (bool Found, PartialDate? Date) Resolve(CasePatient patient, TreatmentReference reference) => reference.Kind switch
    {
        TreatmentReference.CarT when reference.Number is null && patient.CarT is not null => (true, Known(patient.CarT.Date)),
        TreatmentReference.Hsct when reference.Number is null && patient.Hsct is not null => (true, Known(patient.Hsct.Date)),
        TreatmentReference.InotuzumabCycle when patient.InotuzumabCycles.FirstOrDefault(c => c.Cycle == reference.Number) is { } cycle =>
            (true, cycle.Doses.Select(d => Known(d.Date)).FirstOrDefault(d => d is not null)),
        TreatmentReference.Radiotherapy when reference.Number is int n && n >= 1 && n <= patient.Radiotherapy.Count =>
            (true, Known(patient.Radiotherapy[n - 1].StartDate)),
        _ => (false, null),
    };

    private static PartialDate? Known(Fact<PartialDate> date) => date.TryGetValue(out var value) ? value : null;

    private static void CheckFollowUp(CasePatient patient, ReadErrors errors)
    {
        if (patient.FollowUp is null || !patient.FollowUp.LastContactDate.TryGetValue(out var lastContact))
            return;
        foreach (var (path, date) in DatedEvents(patient).Where(e => e.Path != patient.FollowUp.Path + ".lastContactDate"))
            if (lastContact.IsCertainlyBefore(date))
                errors.Add(patient.FollowUp.Path + ".lastContactDate", InputRules.DateOrder, $"the last contact ({lastContact}) is before {path} ({date})");
    }

    /// <summary>Every known date of the patient with its field path.</summary>
    private static IEnumerable<(string Path, PartialDate Date)> DatedEvents(CasePatient patient)
    {
        IEnumerable<(string, Fact<PartialDate>)> all =
        [
            (patient.Diagnosis.Path + ".date", patient.Diagnosis.Date),
            .. patient.Relapses.Select(r => (r.Path + ".date", r.Date)),
            .. patient.CarT is null ? [] : new[] { (patient.CarT.Path + ".date", patient.CarT.Date) },
            .. patient.InotuzumabCycles.SelectMany(c => c.Doses).Select(d => (d.Path + ".date", d.Date)),
            .. patient.ResponseAssessments.Select(a => (a.Path + ".date", Fact<PartialDate>.Of(a.Date))),
            .. patient.Hsct is null ? [] : new[] { (patient.Hsct.Path + ".date", patient.Hsct.Date) },
            .. patient.Radiotherapy.SelectMany(r => new[] { (r.Path + ".startDate", r.StartDate), (r.Path + ".endDate", r.EndDate) }),
            .. patient.FollowUp is null ? [] : new[] { (patient.FollowUp.Path + ".lastContactDate", patient.FollowUp.LastContactDate) },
        ];
        foreach (var (path, date) in all)
            if (date.TryGetValue(out var value))
                yield return (path, value);
    }
}
