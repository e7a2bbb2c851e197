using System.Globalization;
using FhirCaseService.CaseSeries.Input;
using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Mapping.FhirCaseCanonicals;

namespace FhirCaseService.CaseSeries.Mapping;

/// <summary>
/// Maps one patient of a case series to the profiled resources of docs/resource-model.md. Ids are built
/// from the series id, the pseudonym and the event (relapse number, cycle and day, assessment date...),
/// so they do not depend on the order of the input. Each resource names the input facts it carries;
/// if any of them is listed as illustrative the resource is tagged illustrative.
/// </summary>
internal sealed class PatientMapper
{
    private readonly CaseSeriesRecord _series;
    private readonly CasePatient _patient;
    private readonly BundleAssembly _assembly;
    private readonly ResourceKey _patientKey;
    private readonly ResourceKey _conditionKey;

    private PatientMapper(CaseSeriesRecord series, CasePatient patient, BundleAssembly assembly)
    {
        _series = series;
        _patient = patient;
        _assembly = assembly;
        _patientKey = Key("Patient");
        _conditionKey = Key("Condition", "diagnosis");
    }

    public static ResourceKey PatientKey(CaseSeriesRecord series, CasePatient patient) =>
        ResourceKey.For("Patient", series.SeriesId, patient.Pseudonym);

    public static void Map(CaseSeriesRecord series, CasePatient patient, BundleAssembly assembly)
    {
        var mapper = new PatientMapper(series, patient, assembly);
        var first = assembly.Resources.Count;
        mapper.AddPatient();
        mapper.AddDiagnosis();
        foreach (var relapse in patient.Relapses.OrderBy(r => r.Number))
            mapper.AddRelapse(relapse);
        mapper.AddCarT();
        foreach (var cycle in patient.InotuzumabCycles.OrderBy(c => c.Cycle))
            foreach (var dose in cycle.Doses.OrderBy(d => d.Day))
                mapper.AddInotuzumabDose(cycle, dose);
        foreach (var assessment in patient.ResponseAssessments.OrderBy(a => a.Date))
            mapper.AddResponseAssessment(assessment);
        mapper.AddHsct();
        for (var i = 0; i < patient.Radiotherapy.Count; i++)
            mapper.AddRadiotherapy(i + 1, patient.Radiotherapy[i]);
        mapper.AddFollowUp();
        ProvenanceBuilder.AddForPatient(series, patient, mapper._patientKey, assembly.Resources.Skip(first).ToList(), assembly);
    }

    /// <summary>Adds the resource with a one-line generated narrative, so a reader (and dom-6) has human-readable text.</summary>
    private void Add(ResourceKey key, Resource resource, string profile, bool illustrative, string description)
    {
        ((DomainResource)resource).Text = Narratives.Line(
            $"Patient {_patient.Pseudonym} of case series {_series.SeriesId}: {description}." + (illustrative ? " Contains illustrative values (see Provenance)." : ""));
        _assembly.Add(key, resource, profile, illustrative, description);
    }

    private ResourceKey Key(string resourceType, params string[] eventParts) =>
        ResourceKey.For(resourceType, [_series.SeriesId, _patient.Pseudonym, .. eventParts]);

    private ResourceReference Reference(ResourceKey key) => _assembly.Reference(key);

    private ResourceReference PatientReference => Reference(_patientKey);

    /// <summary>Whether any of the facts (absolute input paths) is listed as illustrative for this patient.</summary>
    private bool Illustrative(params string[] paths)
    {
        var prefix = _patient.Path + ".";
        return paths.Any(p => _patient.Illustrative.Touches(p.StartsWith(prefix, StringComparison.Ordinal) ? p[prefix.Length..] : p));
    }

    private string Field(string name) => $"{_patient.Path}.{name}";

    private static string On(Fact<PartialDate> date) => date.TryGetValue(out var value) ? $" on {value}" : " (date not reported)";

    private static FhirDateTime DateTime(Fact<PartialDate> date) =>
        date.TryGetValue(out var value) ? new FhirDateTime(value.ToString()) : Absent.Marked(new FhirDateTime());

    private void AddPatient()
    {
        var patient = new Patient
        {
            Identifier = [new Identifier(PseudonymSystem, _patient.Pseudonym)],
            GenderElement = _patient.Sex.TryGetValue(out var sex)
                ? new Code<AdministrativeGender>(sex switch { "female" => AdministrativeGender.Female, "male" => AdministrativeGender.Male, _ => AdministrativeGender.Other })
                : Absent.Marked(new Code<AdministrativeGender>()),
            BirthDateElement = _patient.BirthYear.TryGetValue(out var year)
                ? new Date(year.ToString("D4", CultureInfo.InvariantCulture))
                : Absent.Marked(new Date()),
        };
        if (_patient.FollowUp?.VitalStatus is { IsReported: true } vital)
            patient.Deceased = new FhirBoolean(vital.Value == "dead");
        Add(_patientKey, patient, Profiles.Patient,
            Illustrative(Field("sex"), Field("birthYear"), Field("followUp.vitalStatus")), "pseudonymised patient");
    }

    private void AddDiagnosis()
    {
        var diagnosis = _patient.Diagnosis;
        var condition = new Condition
        {
            ClinicalStatus = ClinicalStatusAtLastFollowUp(),
            VerificationStatus = Codes.Concept(Codes.Confirmed),
            Category = [Codes.Concept(Codes.ProblemListItem)],
            Code = Codes.Concept(Codes.BcpAll),
            Subject = PatientReference,
            Onset = DateTime(diagnosis.Date),
        };
        condition.Code.Text = diagnosis.Immunophenotype.TryGetValue(out var phenotype)
            ? $"B-cell precursor acute lymphoblastic leukemia ({ImmunophenotypeText(phenotype)})"
            : "B-cell precursor acute lymphoblastic leukemia";
        if (_patient.AgeAtDiagnosisYears.TryGetValue(out var age))
            condition.Note.Add(new Annotation { Text = $"Age at diagnosis: {age} years." });
        foreach (var line in _patient.PriorTherapyLines.OrderBy(l => l.Line))
            condition.Note.Add(new Annotation { Text = $"Prior line of therapy {line.Line}: {(line.Description.TryGetValue(out var text) ? text : "not reported")}." });

        Add(_conditionKey, condition, Profiles.Diagnosis,
            Illustrative(diagnosis.Path, Field("ageAtDiagnosisYears"), Field("priorTherapyLines"), Field("followUp.diseaseStatus")), "diagnosis");
    }

    private static string ImmunophenotypeText(string code) => code switch
    {
        "pro-b" => "pro-B",
        "common-b" => "common-B",
        "pre-b" => "pre-B",
        _ => "B-cell precursor",
    };

    /// <summary>The condition's clinical status is what the last follow-up says; left out when that is not reported (optional in core, and condition-clinical has no "unknown").</summary>
    private CodeableConcept? ClinicalStatusAtLastFollowUp() => _patient.FollowUp?.DiseaseStatus is { IsReported: true } status
        ? Codes.Concept(status.Value switch
        {
            "CR" or "CRi" => Codes.ClinicalRemission,
            "relapse" => Codes.ClinicalRelapse,
            _ => Codes.ClinicalActive,
        })
        : null;

    private Observation DiseaseStatus(Fact<PartialDate> date, Fact<string> status)
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = Codes.Concept(Codes.CancerDiseaseStatus),
            Subject = PatientReference,
            Focus = [Reference(_conditionKey)],
            Effective = DateTime(date),
        };
        if (status.TryGetValue(out var code))
            observation.Value = Codes.Concept(Codes.DiseaseStatus(code));
        else
            observation.DataAbsentReason = Absent.ObservationReason();
        return observation;
    }

    private ResourceKey RelapseKey(int number) => Key("Observation", "relapse", number.ToString(CultureInfo.InvariantCulture));

    private void AddRelapse(Relapse relapse)
    {
        var key = RelapseKey(relapse.Number);
        var observation = DiseaseStatus(relapse.Date, Fact<string>.Of("relapse"));
        observation.Extension.Add(new Extension(Extensions.RelapseNumber, new PositiveInt(relapse.Number)));
        if (relapse.Sites.TryGetValue(out var sites))
            foreach (var site in sites)
                observation.Extension.Add(new Extension(Extensions.RelapseSite, Codes.Concept(Codes.RelapseSite(site))));
        else
            observation.Extension.Add(new Extension(Extensions.RelapseSite, Codes.Concept(Codes.RelapseSiteNotReported)));
        Add(key, observation, Profiles.DiseaseStatus,
            Illustrative(relapse.Path + ".number", relapse.Path + ".date", relapse.Path + ".sites"), $"relapse {relapse.Number}{On(relapse.Date)}");

        AddAntigen(relapse, relapse.Cd19, "cd19", Codes.Cd19Blasts, Profiles.Cd19, key);
        AddAntigen(relapse, relapse.Cd22, "cd22", Codes.Cd22Blasts, Profiles.Cd22, key);
    }

    /// <summary>
    /// Antigen status at a relapse, with the flow cytometry percent and antigen density when given; a status not
    /// reported means no observation (there is nothing to state).
    /// </summary>
    private void AddAntigen(Relapse relapse, AntigenResult result, string antigen, Coding code, string profile, ResourceKey relapseKey)
    {
        if (!result.Status.TryGetValue(out var value))
            return;
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Category = [Codes.Concept(Codes.Laboratory)],
            Code = Codes.Concept(code),
            Subject = PatientReference,
            Focus = [Reference(relapseKey)],
            Effective = DateTime(relapse.Date),
            Interpretation = [Codes.Concept(value == "positive" ? Codes.Positive : Codes.Negative)],
        };
        if (result.PercentOfBlasts.TryGetValue(out var percent))
            observation.Value = Percent(percent);
        if (result.AntigenDensity.TryGetValue(out var density))
            observation.Component.Add(new Observation.ComponentComponent
            {
                Code = Codes.Concept(Codes.AntigenDensity),
                Value = new Quantity { Value = density, Unit = "molecules/cell", System = CodeSystems.Ucum, Code = "{molecules}/{cell}" },
            });
        var field = relapse.Path + "." + antigen;
        Add(Key("Observation", "relapse", relapse.Number.ToString(CultureInfo.InvariantCulture), antigen), observation, profile,
            Illustrative(relapse.Path + ".date", field, field + "PercentOfBlasts", field + "AntigenDensity"),
            $"{antigen.ToUpperInvariant()} {value}{(result.PercentOfBlasts.IsReported ? $" on {percent.ToString(CultureInfo.InvariantCulture)} % of blasts" : "")} at relapse {relapse.Number}");
    }

    private ResourceKey CarTKey => Key("MedicationAdministration", "car-t");

    private void AddCarT()
    {
        if (_patient.CarT is not CarTInfusion carT)
            return;
        var administration = new MedicationAdministration
        {
            Status = MedicationAdministration.MedicationAdministrationStatusCodes.Completed,
            Medication = Codes.Concept(Codes.Tisagenlecleucel),
            Subject = PatientReference,
            Effective = DateTime(carT.Date),
            ReasonReference = [Reference(_conditionKey)],
        };
        Add(CarTKey, administration, Profiles.CarTAdministration, Illustrative(carT.Path), $"tisagenlecleucel infusion{On(carT.Date)}");
    }

    private ResourceKey DoseKey(int cycle, int day) =>
        Key("MedicationAdministration", "ino", $"c{cycle.ToString(CultureInfo.InvariantCulture)}", $"d{day.ToString(CultureInfo.InvariantCulture)}");

    private void AddInotuzumabDose(InotuzumabCycle cycle, InotuzumabDose dose)
    {
        var quantity = new Quantity { Unit = "mg/m2", System = CodeSystems.Ucum, Code = "mg/m2" };
        if (dose.DoseMgPerM2.TryGetValue(out var amount))
            quantity.Value = amount;
        else
            Absent.Marked(quantity);

        var administration = new MedicationAdministration
        {
            Status = MedicationAdministration.MedicationAdministrationStatusCodes.Completed,
            Medication = Codes.Concept(Codes.Inotuzumab),
            Subject = PatientReference,
            Effective = DateTime(dose.Date),
            ReasonReference = [Reference(_conditionKey)],
            Dosage = new MedicationAdministration.DosageComponent { Dose = quantity },
        };
        administration.Extension.Add(new Extension
        {
            Url = Extensions.InoCycle,
            Extension =
            [
                new Extension(Extensions.InoCycleNumber, new PositiveInt(cycle.Cycle)),
                new Extension(Extensions.InoCycleDay, new PositiveInt(dose.Day)),
            ],
        });
        Add(DoseKey(cycle.Cycle, dose.Day), administration, Profiles.InotuzumabAdministration,
            Illustrative(cycle.Path + ".cycle", dose.Path), $"inotuzumab ozogamicin cycle {cycle.Cycle} day {dose.Day}{On(dose.Date)}");
    }

    /// <summary>The resource a response assessment follows; for an inotuzumab cycle, its last dose (the cycle is complete).</summary>
    private ResourceKey? TreatmentKey(TreatmentReference reference) => reference.Kind switch
    {
        TreatmentReference.CarT => CarTKey,
        TreatmentReference.Hsct => HsctKey,
        TreatmentReference.Radiotherapy => RadiotherapyKey(reference.Number!.Value),
        TreatmentReference.InotuzumabCycle => _patient.InotuzumabCycles.First(c => c.Cycle == reference.Number).Doses
            .OrderBy(d => d.Day).Select(d => DoseKey(reference.Number!.Value, d.Day)).LastOrDefault(),
        _ => null,
    };

    private void AddResponseAssessment(ResponseAssessment assessment)
    {
        var dateWord = assessment.Date.ToString().Replace("-", "", StringComparison.Ordinal);
        var key = Key("Observation", "response", dateWord);
        var observation = DiseaseStatus(Fact<PartialDate>.Of(assessment.Date), assessment.Response);
        if (assessment.AfterTreatment is TreatmentReference reference && TreatmentKey(reference) is ResourceKey treatment)
            observation.Extension.Add(new Extension(Extensions.AssessedTreatment, Reference(treatment)));

        if (assessment.Mrd is MrdResult mrd && mrd.Percent.IsReported)
        {
            var mrdKey = Key("Observation", "response", dateWord, "mrd");
            AddMrd(mrdKey, assessment.Date, mrd);
            observation.DerivedFrom = [Reference(mrdKey)];
        }
        Add(key, observation, Profiles.DiseaseStatus,
            Illustrative(assessment.Path + ".date", assessment.Path + ".response", assessment.Path + ".afterTreatment"), $"response assessment {assessment.Date}");
    }

    /// <summary>An MRD result. Called only for a reported result: the profile requires a value, so an unreported result has no observation.</summary>
    private void AddMrd(ResourceKey key, PartialDate date, MrdResult mrd)
    {
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Category = [Codes.Concept(Codes.Laboratory)],
            Code = Codes.Concept(Codes.Mrd),
            Subject = PatientReference,
            Effective = new FhirDateTime(date.ToString()),
            BodySite = Codes.Concept(Codes.BoneMarrow),
            Method = mrd.Method.TryGetValue(out var method) ? Codes.Concept(Codes.MrdMethod(method)) : Codes.Concept(Codes.MrdMethodNotReported),
            Value = mrd.Percent.Value is decimal percent
                ? Percent(percent)
                : Codes.Concept(Codes.NotDetected),
        };
        if (mrd.LimitOfDetectionPercent.TryGetValue(out var limit))
            observation.Extension.Add(new Extension(Extensions.MrdLimitOfDetection, Percent(limit)));
        else if (mrd.IsNotDetected)
            observation.Extension.Add(new Extension(Extensions.MrdLimitOfDetection, Absent.Marked(Percent(null))));
        Add(key, observation, Profiles.Mrd, Illustrative(mrd.Path), $"MRD {date}");
    }

    private static Quantity Percent(decimal? value) => new() { Value = value, Unit = "%", System = CodeSystems.Ucum, Code = "%" };

    private ResourceKey HsctKey => Key("Procedure", "hsct");

    private void AddHsct()
    {
        if (_patient.Hsct is not Transplant hsct)
            return;
        var procedure = new Procedure
        {
            Status = EventStatus.Completed,
            Code = Codes.Concept(Codes.Hsct),
            Subject = PatientReference,
            Performed = DateTime(hsct.Date),
            ReasonReference = [Reference(_conditionKey)],
        };
        procedure.Code.Text = "Allogeneic hematopoietic stem cell transplantation";
        if (hsct.DonorType.TryGetValue(out var donor))
            procedure.Extension.Add(new Extension(Extensions.DonorType, Codes.Concept(Codes.DonorType(donor))));
        if (hsct.Conditioning.TryGetValue(out var conditioning))
            procedure.Note.Add(new Annotation { Text = $"Conditioning: {conditioning}" });
        Add(HsctKey, procedure, Profiles.Hsct, Illustrative(hsct.Path), $"allogeneic HSCT{On(hsct.Date)}");
    }

    private ResourceKey RadiotherapyKey(int number) => Key("Procedure", "radiotherapy", number.ToString(CultureInfo.InvariantCulture));

    private void AddRadiotherapy(int number, RadiotherapyCourse course)
    {
        var procedure = new Procedure
        {
            Status = EventStatus.Completed,
            Code = Codes.Concept(Codes.RadiotherapyCourse),
            Subject = PatientReference,
            Performed = new Period { StartElement = DateTime(course.StartDate), EndElement = DateTime(course.EndDate) },
            BodySite = [BodySite(course)],
            ReasonReference = course.ForRelapses.Order().Select(n => Reference(RelapseKey(n))).ToList(),
        };
        procedure.Extension.Add(new Extension(Extensions.TreatmentIntent,
            course.Intent.TryGetValue(out var intent) ? Codes.Concept(Codes.TreatmentIntent(intent)) : Codes.Concept(Codes.TreatmentIntentNotReported)));
        if (course.DoseGy.TryGetValue(out var dose))
            procedure.Extension.Add(new Extension(Extensions.RadiationDose, new Quantity { Value = dose, Unit = "Gy", System = CodeSystems.Ucum, Code = "Gy" }));
        Add(RadiotherapyKey(number), procedure, Profiles.Radiotherapy, Illustrative(course.Path), $"radiotherapy course {number}");
    }

    /// <summary>The eye has a verified SNOMED CT body structure code; other sites are stated in text only rather than coded with an unverified code.</summary>
    private static CodeableConcept BodySite(RadiotherapyCourse course)
    {
        var site = course.Site == "eye"
            ? Codes.Concept(Codes.EyeProper)
            : new CodeableConcept();
        site.Text = course.SiteDescription ?? course.Site switch
        {
            "eye" => "Eye",
            "cns" => "Central nervous system",
            "testis" => "Testis",
            _ => "Other site",
        };
        if (course.Laterality.TryGetValue(out var laterality))
            site.Extension.Add(new Extension(Extensions.Laterality, Codes.Concept(Codes.Laterality(laterality))));
        return site;
    }

    private void AddFollowUp()
    {
        if (_patient.FollowUp is not FollowUp followUp || (!followUp.LastContactDate.IsReported && !followUp.DiseaseStatus.IsReported))
            return;
        var observation = DiseaseStatus(followUp.LastContactDate, followUp.DiseaseStatus);
        // The profile asks every relapse status for its site (fhircase-status-2); the follow-up states the status only,
        // the sites belong to the relapse itself, so here they are coded "not reported" rather than copied or guessed.
        if (followUp.DiseaseStatus is { IsReported: true, Value: "relapse" })
            observation.Extension.Add(new Extension(Extensions.RelapseSite, Codes.Concept(Codes.RelapseSiteNotReported)));
        Add(Key("Observation", "follow-up"), observation, Profiles.DiseaseStatus,
            Illustrative(followUp.Path + ".lastContactDate", followUp.Path + ".diseaseStatus"), $"last follow-up{On(followUp.LastContactDate)}");
    }
}
