using System.Text.Json;
using System.Text.Json.Nodes;
using FhirCaseService.CaseSeries;
using Hl7.Fhir.Model;

namespace FhirCaseService.CaseSeries.Tests.Support;

/// <summary>A small, complete case-series record that every test starts from and changes one thing in.</summary>
internal static class TestRecords
{
    public const string Valid = """
        {
          "seriesId": "test-series",
          "title": "Test series",
          "citation": "Author A. Journal. 2025.",
          "doi": "10.1000/test",
          "publicationDate": "2025-01-15",
          "compiledBy": "Test data manager",
          "timeline": { "anchorDate": "2020-01-01", "explanation": "Day 0 of each patient is the first inotuzumab dose." },
          "patients": [
            {
              "pseudonym": "A1",
              "illustrative": ["hsct.date"],
              "sex": "female",
              "birthYear": 2010,
              "diagnosis": { "date": "2015-03-10", "immunophenotype": "common-b" },
              "relapses": [
                { "number": 1, "date": "2018-05-02", "sites": ["marrow", "cns"], "cd19": "positive", "cd22": "positive" },
                { "number": 2, "date": "2019-12-10", "sites": ["marrow"], "cd19": "negative", "cd22": "positive" },
                { "number": 3, "date": "2020-10-01", "sites": ["eye"], "cd19": "not-reported", "cd22": "not-reported" }
              ],
              "priorTherapyLines": [ { "line": 1, "description": "AIEOP-BFM ALL 2009" } ],
              "carT": { "product": "tisagenlecleucel", "date": "2019-01-15" },
              "inotuzumabCycles": [
                { "cycle": 1, "doses": [
                  { "date": "2020-01-01", "doseMgPerM2": 0.8 },
                  { "date": "2020-01-08", "doseMgPerM2": 0.5 },
                  { "date": "2020-01-15", "doseMgPerM2": 0.5 } ] },
                { "cycle": 2, "doses": [ { "date": "2020-01-29", "doseMgPerM2": 0.5 } ] }
              ],
              "responseAssessments": [
                { "date": "2020-01-22", "response": "CR", "afterTreatment": "inotuzumab-cycle-1",
                  "mrd": { "result": "not-detected", "method": "flow-cytometry", "limitOfDetectionPercent": 0.01, "specimen": "bone-marrow" } }
              ],
              "hsct": { "date": "2020-04-01", "donorType": "matched-unrelated", "conditioning": "TBI/etoposide" },
              "radiotherapy": [
                { "startDate": "2020-10-08", "endDate": "2020-10-22", "site": "eye", "laterality": "both", "siteDescription": "Anterior chambers of both eyes",
                  "intent": "palliative", "doseGy": 12, "forRelapses": [3] }
              ],
              "followUp": { "lastContactDate": "2022-04-01", "diseaseStatus": "CR", "vitalStatus": "alive" }
            }
          ]
        }
        """;

    /// <summary>The valid record with one change applied to its JSON tree.</summary>
    public static string With(Action<JsonObject> change)
    {
        var root = JsonNode.Parse(Valid)!.AsObject();
        change(root);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static JsonObject Patient(JsonObject root, int index = 0) => root["patients"]![index]!.AsObject();

    public static Bundle Convert(string json)
    {
        var conversion = CaseSeriesConverter.Convert(json);
        Assert.True(conversion.Succeeded, string.Join("\n", conversion.Errors));
        return conversion.Bundle!;
    }

    public static T Single<T>(Bundle bundle, string idSuffix) where T : Resource =>
        bundle.Entry.Select(e => e.Resource).OfType<T>().Single(r => r.Id?.EndsWith(idSuffix, StringComparison.Ordinal) == true);
}
