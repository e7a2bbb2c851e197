using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Tests.Support.TestRecords;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>What each resource type looks like when mapped from the test record (docs/resource-model.md).</summary>
public sealed class MapperTests
{
    private const string Base = "https://fhircase.example.org/fhir";
    private readonly Bundle _bundle = Convert(Valid);

    private string FullUrlOf(Resource resource) => _bundle.Entry.Single(e => ReferenceEquals(e.Resource, resource)).FullUrl;

    private static bool HasCoding(CodeableConcept? concept, string system, string code) =>
        concept?.Coding.Any(c => c.System == system && c.Code == code) == true;

    [Fact]
    public void Group_lists_every_patient_of_the_series()
    {
        var group = _bundle.Entry.Select(e => e.Resource).OfType<Group>().Single();
        var patient = Single<Patient>(_bundle, "-a1");

        Assert.Equal("test-series", group.Identifier.Single(i => i.System == $"{Base}/sid/case-series").Value);
        Assert.Equal([FullUrlOf(patient)], group.Member.Select(m => m.Entity.Reference));
        Assert.Equal(1, group.Quantity);
    }

    [Fact]
    public void Patient_carries_only_pseudonym_sex_and_birth_year()
    {
        var patient = Single<Patient>(_bundle, "-a1");

        Assert.Equal($"{Base}/StructureDefinition/fhircase-patient", patient.Meta.Profile.Single());
        Assert.Equal(("A1", $"{Base}/sid/case-series-pseudonym"), (patient.Identifier.Single().Value, patient.Identifier.Single().System));
        Assert.Equal(AdministrativeGender.Female, patient.Gender);
        Assert.Equal("2010", patient.BirthDate);
        Assert.Equal(false, (patient.Deceased as FhirBoolean)?.Value);
        Assert.Empty(patient.Name);
        Assert.Empty(patient.Address);
    }

    [Fact]
    public void Diagnosis_is_a_confirmed_bcp_all_condition_with_onset_and_prior_lines()
    {
        var condition = Single<Condition>(_bundle, "-diagnosis");

        Assert.True(HasCoding(condition.Code, "http://snomed.info/sct", "277571004"));
        Assert.Contains("common-B", condition.Code.Text);
        Assert.Equal("2015-03-10", ((FhirDateTime)condition.Onset).Value);
        Assert.True(HasCoding(condition.Category.Single(), "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item"));
        Assert.True(HasCoding(condition.VerificationStatus, "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"));
        Assert.True(HasCoding(condition.ClinicalStatus, "http://terminology.hl7.org/CodeSystem/condition-clinical", "remission"));
        Assert.Equal(FullUrlOf(Single<Patient>(_bundle, "-a1")), condition.Subject.Reference);
        Assert.Contains(condition.Note, n => n.Text == "Prior line of therapy 1: AIEOP-BFM ALL 2009.");
    }

    [Fact]
    public void Relapse_is_a_disease_status_with_number_and_sites()
    {
        var relapse = Single<Observation>(_bundle, "-relapse-1");

        Assert.Equal($"{Base}/StructureDefinition/fhircase-disease-status", relapse.Meta.Profile.Single());
        Assert.True(HasCoding(relapse.Code, "http://loinc.org", "97509-4"));
        Assert.True(HasCoding((CodeableConcept)relapse.Value, "http://snomed.info/sct", "263855007"));
        Assert.Equal(1, relapse.GetExtensionValue<PositiveInt>($"{Base}/StructureDefinition/relapse-number").Value);
        Assert.Equal(["marrow", "cns"], relapse.GetExtensions($"{Base}/StructureDefinition/relapse-site").Select(e => ((CodeableConcept)e.Value).Coding.Single().Code));
        Assert.Equal(FullUrlOf(Single<Condition>(_bundle, "-diagnosis")), relapse.Focus.Single().Reference);
        Assert.Equal("2018-05-02", ((FhirDateTime)relapse.Effective).Value);
    }

    [Fact]
    public void Antigen_status_at_a_relapse_points_to_that_relapse()
    {
        var cd19 = Single<Observation>(_bundle, "-relapse-2-cd19");
        var cd22 = Single<Observation>(_bundle, "-relapse-2-cd22");
        var relapse = Single<Observation>(_bundle, "-relapse-2");

        Assert.True(HasCoding(cd19.Code, $"{Base}/CodeSystem/fhircase-concepts", "cd19-blasts"));
        Assert.True(HasCoding(cd19.Interpretation.Single(), "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "NEG"));
        Assert.True(HasCoding(cd22.Code, "http://loinc.org", "51124-6"));
        Assert.True(HasCoding(cd22.Interpretation.Single(), "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "POS"));
        Assert.All([cd19, cd22], o => Assert.Equal(FullUrlOf(relapse), o.Focus.Single().Reference));
        Assert.All([cd19, cd22], o => Assert.True(HasCoding(o.Category.Single(), "http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")));
        Assert.Equal($"{Base}/StructureDefinition/fhircase-cd19-expression", cd19.Meta.Profile.Single());
        Assert.Equal($"{Base}/StructureDefinition/fhircase-cd22-expression", cd22.Meta.Profile.Single());
    }

    [Fact]
    public void Flow_cytometry_values_at_a_relapse_become_percent_of_blasts_and_antigen_density()
    {
        var bundle = Convert(With(root =>
        {
            Patient(root)["relapses"]![1]!["cd22PercentOfBlasts"] = 91.5;
            Patient(root)["relapses"]![1]!["cd22AntigenDensity"] = 4200;
        }));
        var cd22 = Single<Observation>(bundle, "-relapse-2-cd22");
        var cd19 = Single<Observation>(bundle, "-relapse-2-cd19");

        var percent = Assert.IsType<Quantity>(cd22.Value);
        Assert.Equal((91.5m, "http://unitsofmeasure.org", "%"), (percent.Value, percent.System, percent.Code));
        var density = Assert.Single(cd22.Component);
        Assert.True(HasCoding(density.Code, $"{Base}/CodeSystem/fhircase-concepts", "antigen-density"));
        var molecules = Assert.IsType<Quantity>(density.Value);
        Assert.Equal((4200m, "{molecules}/{cell}"), (molecules.Value, molecules.Code));
        Assert.Null(cd19.Value);
        Assert.Empty(cd19.Component);
    }

    [Fact]
    public void Follow_up_in_relapse_codes_its_relapse_site_not_reported()
    {
        var bundle = Convert(With(root => Patient(root)["followUp"]!["diseaseStatus"] = "relapse"));
        var followUp = Single<Observation>(bundle, "-follow-up");

        var site = Assert.Single(followUp.Extension, e => e.Url == $"{Base}/StructureDefinition/relapse-site");
        Assert.Equal("not-reported", ((CodeableConcept)site.Value).Coding.Single().Code);
    }

    [Fact]
    public void Car_t_is_a_tisagenlecleucel_administration_for_the_diagnosis()
    {
        var carT = Single<MedicationAdministration>(_bundle, "-car-t");

        Assert.True(HasCoding((CodeableConcept)carT.Medication, "http://www.whocc.no/atc", "L01XL04"));
        Assert.Equal("2019-01-15", ((FhirDateTime)carT.Effective).Value);
        Assert.Equal(FullUrlOf(Single<Condition>(_bundle, "-diagnosis")), carT.ReasonReference.Single().Reference);
        Assert.Equal($"{Base}/StructureDefinition/fhircase-cart-administration", carT.Meta.Profile.Single());
    }

    [Fact]
    public void Each_inotuzumab_dose_is_one_administration_with_cycle_day_and_dose_per_m2()
    {
        var doses = _bundle.Entry.Select(e => e.Resource).OfType<MedicationAdministration>().Where(m => m.Id.Contains("-ino-", StringComparison.Ordinal)).ToList();
        var day8 = Single<MedicationAdministration>(_bundle, "-ino-c1-d8");
        var cycle = day8.GetExtension($"{Base}/StructureDefinition/ino-cycle");

        Assert.Equal(4, doses.Count);
        Assert.True(HasCoding((CodeableConcept)day8.Medication, "http://www.nlm.nih.gov/research/umls/rxnorm", "1942950"));
        Assert.Equal(1, cycle.GetExtensionValue<PositiveInt>("cycleNumber").Value);
        Assert.Equal(8, cycle.GetExtensionValue<PositiveInt>("cycleDay").Value);
        var dose = (Quantity)day8.Dosage.Dose;
        Assert.Equal((0.5m, "http://unitsofmeasure.org", "mg/m2"), (dose.Value!.Value, dose.System, dose.Code));
    }

    [Fact]
    public void Response_assessment_names_the_treatment_it_follows_and_the_mrd_it_rests_on()
    {
        var response = Single<Observation>(_bundle, "-response-20200122");
        var mrd = Single<Observation>(_bundle, "-response-20200122-mrd");
        var lastDoseOfCycle1 = Single<MedicationAdministration>(_bundle, "-ino-c1-d15");

        Assert.True(HasCoding((CodeableConcept)response.Value, "http://snomed.info/sct", "103338009"));
        Assert.Equal(FullUrlOf(lastDoseOfCycle1), ((ResourceReference)response.GetExtension($"{Base}/StructureDefinition/assessed-treatment").Value).Reference);
        Assert.Equal(FullUrlOf(mrd), response.DerivedFrom.Single().Reference);
    }

    [Fact]
    public void Undetectable_mrd_is_coded_not_detected_with_its_limit_of_detection()
    {
        var mrd = Single<Observation>(_bundle, "-response-20200122-mrd");

        Assert.Equal($"{Base}/StructureDefinition/fhircase-mrd", mrd.Meta.Profile.Single());
        Assert.True(HasCoding(mrd.Code, $"{Base}/CodeSystem/fhircase-concepts", "mrd"));
        Assert.True(HasCoding((CodeableConcept)mrd.Value, "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "ND"));
        Assert.True(HasCoding(mrd.Method, $"{Base}/CodeSystem/fhircase-mrd-method", "flow-cytometry"));
        Assert.True(HasCoding(mrd.BodySite, "http://snomed.info/sct", "14016003"));
        var limit = mrd.GetExtensionValue<Quantity>($"{Base}/StructureDefinition/mrd-limit-of-detection");
        Assert.Equal((0.01m, "%"), (limit.Value!.Value, limit.Code));
    }

    [Fact]
    public void Measured_mrd_is_a_percentage_in_ucum()
    {
        var bundle = Convert(With(root => Patient(root)["responseAssessments"]![0]!["mrd"]!["result"] = 0.05));

        var value = (Quantity)Single<Observation>(bundle, "-mrd").Value;

        Assert.Equal((0.05m, "http://unitsofmeasure.org", "%"), (value.Value!.Value, value.System, value.Code));
    }

    [Fact]
    public void Hsct_carries_donor_type_and_conditioning()
    {
        var hsct = Single<Procedure>(_bundle, "-hsct");

        Assert.True(HasCoding(hsct.Code, "http://snomed.info/sct", "234336002"));
        Assert.Equal("2020-04-01", ((FhirDateTime)hsct.Performed).Value);
        Assert.True(HasCoding(hsct.GetExtensionValue<CodeableConcept>($"{Base}/StructureDefinition/donor-type"), $"{Base}/CodeSystem/fhircase-donor-type", "matched-unrelated"));
        Assert.Equal("Conditioning: TBI/etoposide", hsct.Note.Single().Text);
        Assert.Equal(EventStatus.Completed, hsct.Status);
    }

    [Fact]
    public void Radiotherapy_course_has_period_intent_site_with_laterality_dose_and_the_relapse_it_treats()
    {
        var course = Single<Procedure>(_bundle, "-radiotherapy-1");
        var site = course.BodySite.Single();

        Assert.True(HasCoding(course.Code, "http://snomed.info/sct", "1217123003"));
        Assert.Equal(("2020-10-08", "2020-10-22"), (((Period)course.Performed).Start, ((Period)course.Performed).End));
        Assert.True(HasCoding(course.GetExtensionValue<CodeableConcept>($"{Base}/StructureDefinition/treatment-intent"), "http://snomed.info/sct", "363676003"));
        Assert.True(HasCoding(site, "http://snomed.info/sct", "81745001"));
        Assert.True(HasCoding(site.GetExtensionValue<CodeableConcept>($"{Base}/StructureDefinition/laterality"), "http://snomed.info/sct", "51440002"));
        Assert.Equal("Anterior chambers of both eyes", site.Text);
        Assert.Equal((12m, "Gy"), (course.GetExtensionValue<Quantity>($"{Base}/StructureDefinition/radiation-dose").Value!.Value, course.GetExtensionValue<Quantity>($"{Base}/StructureDefinition/radiation-dose").Code));
        Assert.Equal(FullUrlOf(Single<Observation>(_bundle, "-relapse-3")), course.ReasonReference.Single().Reference);
    }

    [Fact]
    public void Last_follow_up_is_a_disease_status_at_the_last_contact_date()
    {
        var followUp = Single<Observation>(_bundle, "-follow-up");

        Assert.Equal("2022-04-01", ((FhirDateTime)followUp.Effective).Value);
        Assert.True(HasCoding((CodeableConcept)followUp.Value, "http://snomed.info/sct", "103338009"));
    }

    [Fact]
    public void Provenance_cites_the_source_and_splits_reported_from_illustrative_resources()
    {
        var provenances = _bundle.Entry.Select(e => e.Resource).OfType<Provenance>().ToList();
        var illustrative = provenances.Single(p => p.Id.EndsWith("-illustrative", StringComparison.Ordinal));
        var reported = provenances.Single(p => p.Id.EndsWith("-reported", StringComparison.Ordinal));
        var hsct = Single<Procedure>(_bundle, "-hsct");

        Assert.Equal([FullUrlOf(hsct)], illustrative.Target.Select(t => t.Reference));
        Assert.DoesNotContain(FullUrlOf(hsct), reported.Target.Select(t => t.Reference));
        Assert.Contains("hsct.date", illustrative.Text.Div);
        Assert.All(provenances, p => Assert.Equal("10.1000/test", p.Entity.Single().What.Identifier.Value));
        Assert.All(provenances, p => Assert.Equal(new DateTimeOffset(2025, 1, 15, 0, 0, 0, TimeSpan.Zero), p.Recorded));
    }

    [Fact]
    public void Resources_with_an_illustrative_fact_are_tagged_illustrative_the_others_reported()
    {
        string TagOf(Resource r) => r.Meta.Tag.Single(t => t.System == $"{Base}/CodeSystem/fhircase-data-provenance").Code;

        Assert.Equal("illustrative", TagOf(Single<Procedure>(_bundle, "-hsct")));
        Assert.Equal("reported", TagOf(Single<Condition>(_bundle, "-diagnosis")));
        Assert.All(_bundle.Entry, e => Assert.Contains(TagOf(e.Resource), new[] { "reported", "illustrative" }));
    }

    [Fact]
    public void Every_resource_has_a_generated_narrative_naming_its_patient_and_event()
    {
        Assert.All(_bundle.Entry.Select(e => (DomainResource)e.Resource), r => Assert.Equal(Narrative.NarrativeStatus.Generated, r.Text.Status));
        Assert.Contains("Patient A1 of case series test-series: relapse 2 on 2019-12-10.", Single<Observation>(_bundle, "-relapse-2").Text.Div);
        Assert.Contains("Contains illustrative values", Single<Procedure>(_bundle, "-hsct").Text.Div);
    }

    [Fact]
    public void Serialized_bundle_has_unix_line_ends_and_a_final_newline()
    {
        var json = CaseSeriesJson.Serialize(_bundle);

        Assert.DoesNotContain('\r', json);
        Assert.EndsWith("}\n", json);
    }
}
