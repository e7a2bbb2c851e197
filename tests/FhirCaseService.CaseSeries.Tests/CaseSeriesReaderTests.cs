using System.Text.Json.Nodes;
using FhirCaseService.CaseSeries.Input;
using FhirCaseService.CaseSeries.Tests.Support;
using static FhirCaseService.CaseSeries.Tests.Support.TestRecords;

namespace FhirCaseService.CaseSeries.Tests;

public sealed class CaseSeriesReaderTests
{
    [Fact]
    public void Valid_record_is_read_without_errors()
    {
        var result = CaseSeriesReader.Read(Valid);

        Assert.Empty(result.Errors);
        var patient = Assert.Single(result.Record!.Patients);
        Assert.Equal("A1", patient.Pseudonym);
        Assert.Equal(3, patient.Relapses.Count);
        Assert.Equal([1, 8, 15], patient.InotuzumabCycles[0].Doses.Select(d => d.Day));
        Assert.True(patient.ResponseAssessments[0].Mrd!.IsNotDetected);
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        // change, expected path, expected rule
        { "remove sex", "patients[0].sex", InputRules.Missing },
        { "birthYear as text", "patients[0].birthYear", InputRules.WrongType },
        { "unknown relapse site", "patients[0].relapses[0].sites[1]", InputRules.UnknownCode },
        { "unknown response", "patients[0].responseAssessments[0].response", InputRules.UnknownCode },
        { "impossible calendar date", "patients[0].diagnosis.date", InputRules.InvalidValue },
        { "relapse before diagnosis", "patients[0].relapses[0].date", InputRules.DateOrder },
        { "relapse 2 before relapse 1", "patients[0].relapses[1].date", InputRules.DateOrder },
        { "follow-up before HSCT", "patients[0].followUp.lastContactDate", InputRules.DateOrder },
        { "radiotherapy ends before it starts", "patients[0].radiotherapy[0].endDate", InputRules.DateOrder },
        { "misspelled field", "patients[0].diagnosys", InputRules.UnknownField },
        { "assessment after a missing cycle", "patients[0].responseAssessments[0].afterTreatment", InputRules.UnknownReference },
        { "radiotherapy for a missing relapse", "patients[0].radiotherapy[0].forRelapses", InputRules.UnknownReference },
        { "duplicate relapse number", "patients[0].relapses[1].number", InputRules.Duplicate },
        { "duplicate pseudonym", "patients[1].pseudonym", InputRules.Duplicate },
        { "illustrative path outside the patient", "patients[0].illustrative[0]", InputRules.UnknownField },
        { "dose as text", "patients[0].inotuzumabCycles[0].doses[0].doseMgPerM2", InputRules.WrongType },
        { "MRD result out of range", "patients[0].responseAssessments[0].mrd.result", InputRules.InvalidValue },
        { "series id with spaces", "seriesId", InputRules.InvalidValue },
        { "publication date not reported", "publicationDate", InputRules.InvalidValue },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_is_reported_with_field_path_and_rule(string change, string path, string rule)
    {
        var result = CaseSeriesReader.Read(Apply(change));

        Assert.Null(result.Record);
        Assert.Contains(result.Errors, e => e.Path == path && e.Rule == rule);
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
    }

    private static string Apply(string change) => With(root =>
    {
        var patient = Patient(root);
        switch (change)
        {
            case "remove sex": patient.Remove("sex"); break;
            case "birthYear as text": patient["birthYear"] = "2010"; break;
            case "unknown relapse site": patient["relapses"]![0]!["sites"] = new JsonArray("marrow", "skin"); break;
            case "unknown response": patient["responseAssessments"]![0]!["response"] = "complete"; break;
            case "impossible calendar date": patient["diagnosis"]!["date"] = "2015-02-30"; break;
            case "relapse before diagnosis": patient["relapses"]![0]!["date"] = "2014-01"; break;
            case "relapse 2 before relapse 1": patient["relapses"]![1]!["date"] = "2017-01-01"; break;
            case "follow-up before HSCT": patient["followUp"]!["lastContactDate"] = "2020-03-01"; break;
            case "radiotherapy ends before it starts": patient["radiotherapy"]![0]!["endDate"] = "2020-10-01"; break;
            case "misspelled field": patient["diagnosys"] = patient["diagnosis"]!.DeepClone(); break;
            case "assessment after a missing cycle": patient["responseAssessments"]![0]!["afterTreatment"] = "inotuzumab-cycle-5"; break;
            case "radiotherapy for a missing relapse": patient["radiotherapy"]![0]!["forRelapses"] = new JsonArray(7); break;
            case "duplicate relapse number": patient["relapses"]![1]!["number"] = 1; break;
            case "duplicate pseudonym": root["patients"]!.AsArray().Add(patient.DeepClone()); break;
            case "illustrative path outside the patient": patient["illustrative"] = new JsonArray("title"); break;
            case "dose as text": patient["inotuzumabCycles"]![0]!["doses"]![0]!["doseMgPerM2"] = "0.8 mg"; break;
            case "MRD result out of range": patient["responseAssessments"]![0]!["mrd"]!["result"] = 140; break;
            case "series id with spaces": root["seriesId"] = "my series"; break;
            case "publication date not reported": root["publicationDate"] = "not-reported"; break;
            default: throw new ArgumentOutOfRangeException(nameof(change), change, null);
        }
    });

    [Fact]
    public void All_errors_are_collected_not_only_the_first()
    {
        var json = With(root =>
        {
            var patient = Patient(root);
            patient.Remove("sex");
            patient["birthYear"] = "old";
            patient["relapses"]![0]!["cd19"] = "weak";
        });

        var errors = CaseSeriesReader.Read(json).Errors;

        Assert.Equal(["patients[0].birthYear", "patients[0].relapses[0].cd19", "patients[0].sex"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Errors_carry_the_line_and_column_of_the_offending_value()
    {
        var json = With(root => Patient(root)["relapses"]![0]!["cd22"] = "weak");
        var expectedLine = json.Split('\n').Select((text, index) => (text, index)).First(l => l.text.Contains("\"weak\"")).index + 1;

        var error = Assert.Single(CaseSeriesReader.Read(json).Errors);

        Assert.Equal(expectedLine, error.Line);
        Assert.Equal(json.Split('\n')[expectedLine - 1].IndexOf("\"weak\"", StringComparison.Ordinal) + 1, error.Column);
        Assert.StartsWith($"{expectedLine}:", error.ToString());
    }

    [Fact]
    public void Errors_in_a_file_written_on_one_line_carry_their_column()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(With(root => Patient(root)["relapses"]![0]!["cd22"] = "weak"))!.ToJsonString();

        var error = Assert.Single(CaseSeriesReader.Read(json).Errors);

        Assert.Equal((1, json.IndexOf("\"weak\"", StringComparison.Ordinal) + 1), (error.Line, error.Column));
    }

    [Fact]
    public void Flow_cytometry_values_need_a_reported_antigen_status_and_a_percentage_within_0_to_100()
    {
        var json = With(root =>
        {
            var relapse = Patient(root)["relapses"]![2]!;
            relapse["cd22PercentOfBlasts"] = 80;
            Patient(root)["relapses"]![1]!["cd19PercentOfBlasts"] = 120;
        });

        var errors = CaseSeriesReader.Read(json).Errors;

        Assert.Equal([("patients[0].relapses[1].cd19PercentOfBlasts", InputRules.InvalidValue), ("patients[0].relapses[2].cd22", InputRules.InvalidValue)],
            errors.Select(e => (e.Path, e.Rule)).Order());
    }

    [Fact]
    public void A_missing_field_is_located_at_its_parent_object()
    {
        var json = With(root => Patient(root)["followUp"]!.AsObject().Remove("vitalStatus"));

        var error = Assert.Single(CaseSeriesReader.Read(json).Errors);

        Assert.Equal(("patients[0].followUp.vitalStatus", InputRules.Missing), (error.Path, error.Rule));
        Assert.NotNull(error.Line);
    }

    [Theory]
    [InlineData("{ \"seriesId\": ", InputRules.InvalidJson)]
    [InlineData("[1, 2]", InputRules.WrongType)]
    [InlineData("", InputRules.InvalidJson)]
    public void Input_that_is_not_a_case_series_object_is_one_clear_error(string json, string rule)
    {
        var error = Assert.Single(CaseSeriesReader.Read(json).Errors);

        Assert.Equal(rule, error.Rule);
    }

    [Fact]
    public void Not_reported_is_accepted_for_any_value_that_may_be_unknown()
    {
        var json = With(root =>
        {
            var patient = Patient(root);
            foreach (var field in new[] { "sex", "birthYear" })
                patient[field] = "not-reported";
            patient["diagnosis"]!["date"] = "not-reported";
            patient["relapses"]![0]!["sites"] = "not-reported";
            patient["responseAssessments"]![0]!["mrd"]!["method"] = "not-reported";
            patient["hsct"]!["donorType"] = "not-reported";
            patient["followUp"]!["diseaseStatus"] = "not-reported";
        });

        Assert.Empty(CaseSeriesReader.Read(json).Errors);
    }

    [Fact]
    public void Partial_dates_are_only_rejected_when_the_order_is_impossible()
    {
        // "2018" may be any day of 2018, so a relapse in "2018" and the next one on 2018-01-05 can both be true.
        var json = With(root =>
        {
            var patient = Patient(root);
            patient["relapses"]![0]!["date"] = "2018-05";
            patient["relapses"]![1]!["date"] = "2018-05-03";
            patient["carT"]!["date"] = "2018";
        });

        Assert.Empty(CaseSeriesReader.Read(json).Errors);
    }

    [Fact]
    public void Cycle_day_is_required_when_dates_cannot_give_it()
    {
        var json = With(root => Patient(root)["inotuzumabCycles"]![0]!["doses"]![1]!["date"] = "not-reported");

        var error = Assert.Single(CaseSeriesReader.Read(json).Errors);

        Assert.Equal(("patients[0].inotuzumabCycles[0].doses[1].day", InputRules.Missing), (error.Path, error.Rule));
    }

    [Fact]
    public void Illustrative_paths_cover_fields_below_and_touch_fields_above()
    {
        var fields = new IllustrativeFields(["relapses[*].date", "hsct"]);

        Assert.True(fields.Touches("relapses[2].date"));
        Assert.True(fields.Touches("relapses[0]"));
        Assert.True(fields.Touches("hsct.date"));
        Assert.False(fields.Touches("relapses[0].cd19"));
        Assert.False(fields.Touches("diagnosis.date"));
    }
}
