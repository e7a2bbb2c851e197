using System.Text;
using System.Text.Json;
using FhirCaseService.CaseSeries.Summary;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>
/// `fhircase summary` reads cohorts of any size a bucket of patients at a time; its numbers must be those of the whole
/// set read at once, and what it cannot read must be named by file and line or entry.
/// </summary>
public sealed class CohortFileSummaryTests(SyntheticCohortFixture cohort) : IClassFixture<SyntheticCohortFixture>, IDisposable
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
    private readonly TempDirectory _folder = Created(new TempDirectory());

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(1_000_000)]
    public void Ndjson_and_bundle_files_read_a_bucket_at_a_time_give_the_summary_of_the_whole_set(int resourcesPerBucket)
    {
        var whole = new ResourceSet();
        foreach (var (_, bundle) in cohort.TransactionBundles())
            whole.AddBundle(bundle);
        var expected = JsonSerializer.Serialize(CohortSummaryCalculator.Compute(whole), Web);
        var scratch = _folder.Sub("scratch");
        Directory.CreateDirectory(scratch);
        var summariser = new CohortFileSummary { ResourcesPerBucket = resourcesPerBucket, ScratchRoot = scratch };

        var fromNdjson = summariser.Summarise(FilesIn(cohort.Ndjson, "*.ndjson"));
        var fromBundles = summariser.Summarise(FilesIn(cohort.Bundles, "*.json"));

        Assert.Equal(SyntheticCohortFixture.Patients, fromNdjson.Summary?.Patients);
        Assert.Empty(fromNdjson.Problems.Concat(fromNdjson.UnresolvedReferences));
        Assert.Empty(fromBundles.Problems.Concat(fromBundles.UnresolvedReferences));
        Assert.Equal(expected, JsonSerializer.Serialize(fromNdjson.Summary, Web));
        Assert.Equal(expected, JsonSerializer.Serialize(fromBundles.Summary, Web));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }

    [Fact]
    public void Problems_name_the_file_and_the_line_or_entry_in_file_order()
    {
        var lines = Write("a.ndjson", """
            {"resourceType":"Patient","id":"a"}
            {"resourceType":"Patient","bogus":1}

            {"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/a"},"valueQuantity":{"value":"high"}}
            not json at all
            """);
        var bundle = Write("b.json", """
            { "resourceType": "Bundle", "type": "collection", "colour": "red", "entry": [
              { "resource": { "resourceType": "Patient", "id": "b" } },
              { "fullUrl": "urn:uuid:5e2d1c0a-0000-4000-8000-000000000001", "resource": { "resourceType": "Patient", "id": "c", "gender": 7 } } ] }
            """);

        var result = new CohortFileSummary().Summarise([lines, bundle]);

        Assert.Null(result.Summary);
        Assert.Collection(result.Problems,
            p => Assert.StartsWith("a.ndjson: line 2: ", p, StringComparison.Ordinal),
            p => Assert.StartsWith("a.ndjson: line 4: ", p, StringComparison.Ordinal),
            p => Assert.StartsWith("a.ndjson: line 5: not valid JSON: ", p, StringComparison.Ordinal),
            p => Assert.Matches("^b.json: .*colour", p),
            p => Assert.StartsWith("b.json: Bundle.entry[1]: ", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Text_that_is_not_json_is_a_problem_not_an_exception()
    {
        var result = new CohortFileSummary().Summarise([Write("broken.json", "{ \"resourceType\": \"Bundle\", ")]);

        Assert.StartsWith("broken.json: not valid JSON: ", Assert.Single(result.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void References_to_nothing_in_the_files_are_listed_once_in_file_order()
    {
        var first = Write("1.ndjson", """
            {"resourceType":"Patient","id":"p"}
            {"resourceType":"Observation","id":"o1","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p"},"focus":[{"reference":"Condition/gone"}]}
            """);
        var second = Write("2.ndjson", """
            {"resourceType":"Observation","id":"o2","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/elsewhere"},"focus":[{"reference":"Condition/gone"},{"reference":"http://other.example/fhir/Observation/o1"}]}
            """);

        var result = new CohortFileSummary().Summarise([first, second]);

        Assert.Equal(["Condition/gone", "Patient/elsewhere"], result.UnresolvedReferences);
        Assert.Equal(1, result.Summary?.Patients);
    }

    [Fact]
    public void Lines_longer_than_the_read_buffer_and_windows_line_ends_are_read()
    {
        var narrative = new string('x', 3 << 20);
        var file = Write("long.ndjson", "\uFEFF{\"resourceType\":\"Patient\",\"id\":\"short\"}\r\n\r\n"
            + $"{{\"resourceType\":\"Patient\",\"id\":\"long\",\"text\":{{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">{narrative}</div>\"}}}}\r\n");

        var result = new CohortFileSummary().Summarise([file]);

        Assert.Empty(result.Problems);
        Assert.Equal(2, result.Summary?.Patients);
    }

    [Fact]
    public void A_cancelled_summary_leaves_no_scratch_files()
    {
        var scratch = _folder.Sub("scratch");
        Directory.CreateDirectory(scratch);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
            new CohortFileSummary { ScratchRoot = scratch }.Summarise(FilesIn(cohort.Ndjson, "*.ndjson"), cancelled.Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }

    private CohortFile Write(string name, string content)
    {
        File.WriteAllText(_folder.Sub(name), content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return new CohortFile(name, _folder.Sub(name), CohortFile.IsNdjsonPath(name));
    }

    private static List<CohortFile> FilesIn(string folder, string pattern) => Directory.EnumerateFiles(folder, pattern)
        .Order(StringComparer.Ordinal)
        .Select(f => new CohortFile(Path.GetFileName(f), f, CohortFile.IsNdjsonPath(f)))
        .ToList();

    private static TempDirectory Created(TempDirectory folder)
    {
        Directory.CreateDirectory(folder.Path);
        return folder;
    }
}
