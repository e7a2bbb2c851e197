using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;
using static FhirCaseService.CaseSeries.Tests.Support.TestRecords;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>"not-reported" becomes data-absent-reason or an omitted element, never an invented value.</summary>
public sealed class NotReportedTests
{
    private const string DataAbsentReason = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
    private const string Base = "https://fhircase.example.org/fhir";

    private static bool MarkedAbsent(Element element) =>
        element.Extension.Any(e => e.Url == DataAbsentReason && e.Value is Code { Value: "unknown" });

    [Fact]
    public void Required_patient_elements_not_reported_carry_data_absent_reason()
    {
        var bundle = Convert(With(root =>
        {
            Patient(root)["sex"] = "not-reported";
            Patient(root)["birthYear"] = "not-reported";
        }));

        var patient = Single<Patient>(bundle, "-a1");

        Assert.Null(patient.Gender);
        Assert.True(MarkedAbsent(patient.GenderElement));
        Assert.Null(patient.BirthDate);
        Assert.True(MarkedAbsent(patient.BirthDateElement));
        Assert.Contains("\"_birthDate\"", CaseSeriesJson.Serialize(patient));
    }

    [Fact]
    public void Age_at_diagnosis_is_kept_as_a_note_rather_than_turned_into_a_guessed_birth_year()
    {
        var bundle = Convert(With(root =>
        {
            Patient(root).Remove("birthYear");
            Patient(root)["ageAtDiagnosisYears"] = 5;
        }));

        Assert.True(MarkedAbsent(Single<Patient>(bundle, "-a1").BirthDateElement));
        Assert.Contains(Single<Condition>(bundle, "-diagnosis").Note, n => n.Text == "Age at diagnosis: 5 years.");
    }

    [Fact]
    public void Unreported_dates_are_data_absent_on_the_required_date_element()
    {
        var bundle = Convert(With(root =>
        {
            Patient(root)["diagnosis"]!["date"] = "not-reported";
            Patient(root)["hsct"]!["date"] = "not-reported";
        }));

        Assert.True(MarkedAbsent((FhirDateTime)Single<Condition>(bundle, "-diagnosis").Onset));
        Assert.True(MarkedAbsent((FhirDateTime)Single<Procedure>(bundle, "-hsct").Performed));
        Assert.Null(((FhirDateTime)Single<Procedure>(bundle, "-hsct").Performed).Value);
    }

    [Fact]
    public void Unreported_response_is_an_observation_without_value_but_with_data_absent_reason()
    {
        var bundle = Convert(With(root => Patient(root)["responseAssessments"]![0]!["response"] = "not-reported"));

        var response = Single<Observation>(bundle, "-response-20200122");

        Assert.Null(response.Value);
        Assert.Equal("unknown", response.DataAbsentReason.Coding.Single().Code);
    }

    [Fact]
    public void Unreported_antigen_status_produces_no_antigen_observation()
    {
        var bundle = Convert(With(root => Patient(root)["relapses"]![1]!["cd19"] = "not-reported"));

        var ids = bundle.Entry.Select(e => e.Resource.Id).ToList();

        Assert.DoesNotContain(ids, id => id.EndsWith("-relapse-2-cd19", StringComparison.Ordinal));
        Assert.Contains(ids, id => id.EndsWith("-relapse-2-cd22", StringComparison.Ordinal));
    }

    [Fact]
    public void Unreported_mrd_result_produces_no_mrd_observation()
    {
        var bundle = Convert(With(root => Patient(root)["responseAssessments"]![0]!["mrd"]!["result"] = "not-reported"));

        Assert.DoesNotContain(bundle.Entry, e => e.Resource.Id.EndsWith("-mrd", StringComparison.Ordinal));
        Assert.Empty(Single<Observation>(bundle, "-response-20200122").DerivedFrom);
    }

    [Fact]
    public void Unreported_mrd_method_and_limit_are_data_absent_because_the_profile_requires_them()
    {
        var bundle = Convert(With(root =>
        {
            var mrd = Patient(root)["responseAssessments"]![0]!["mrd"]!.AsObject();
            mrd["method"] = "not-reported";
            mrd["limitOfDetectionPercent"] = "not-reported";
        }));

        var observation = Single<Observation>(bundle, "-mrd");
        var limit = observation.GetExtensionValue<Quantity>($"{Base}/StructureDefinition/mrd-limit-of-detection");

        Assert.Equal("not-reported", observation.Method.Coding.Single().Code);
        Assert.Equal($"{Base}/CodeSystem/fhircase-mrd-method", observation.Method.Coding.Single().System);
        Assert.Null(limit.Value);
        Assert.True(MarkedAbsent(limit));
    }

    [Fact]
    public void Unreported_optional_facts_are_simply_left_out()
    {
        var bundle = Convert(With(root =>
        {
            Patient(root)["hsct"]!["donorType"] = "not-reported";
            Patient(root)["hsct"]!.AsObject().Remove("conditioning");
            Patient(root)["radiotherapy"]![0]!["doseGy"] = "not-reported";
            Patient(root)["followUp"]!["vitalStatus"] = "not-reported";
        }));

        var hsct = Single<Procedure>(bundle, "-hsct");

        Assert.Empty(hsct.Extension);
        Assert.Empty(hsct.Note);
        Assert.Null(Single<Procedure>(bundle, "-radiotherapy-1").GetExtension($"{Base}/StructureDefinition/radiation-dose"));
        Assert.Null(Single<Patient>(bundle, "-a1").Deceased);
    }

    [Fact]
    public void Unreported_relapse_sites_keep_the_required_site_extension_coded_not_reported()
    {
        var bundle = Convert(With(root => Patient(root)["relapses"]![0]!["sites"] = "not-reported"));

        var site = Single<Observation>(bundle, "-relapse-1").GetExtensions($"{Base}/StructureDefinition/relapse-site").Single();

        var coding = ((CodeableConcept)site.Value).Coding.Single();
        Assert.Equal($"{Base}/CodeSystem/fhircase-relapse-site", coding.System);
        Assert.Equal("not-reported", coding.Code);
    }

    [Fact]
    public void Unreported_follow_up_status_leaves_the_condition_clinical_status_out()
    {
        var bundle = Convert(With(root => Patient(root)["followUp"]!["diseaseStatus"] = "not-reported"));

        var condition = Single<Condition>(bundle, "-diagnosis");

        Assert.Null(condition.ClinicalStatus);
        Assert.Null(Single<Observation>(bundle, "-follow-up").Value);
    }
}
