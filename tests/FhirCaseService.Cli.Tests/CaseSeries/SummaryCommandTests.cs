using System.Text.Json;

namespace FhirCaseService.Cli.Tests.CaseSeries;

public sealed class SummaryCommandTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Summary_prints_the_papers_numbers_as_a_table()
    {
        var run = await CliRun.Start("summary", CliRun.PaperBundle);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Matches(@"Patients\s+4\n", run.Out);
        Assert.Matches(@"CAR-T indication\s+after second relapse 3/4; refractory first relapse 1/4", run.Out);
        Assert.Matches(@"Relapse phenotype after CAR-T\s+CD19-neg/CD22-pos 3/4; CD19-pos/CD22-pos 1/4", run.Out);
        Assert.Matches(@"CR after first InO cycle\s+4/4", run.Out);
        Assert.Matches(@"MRD-negative after InO\s+3/4", run.Out);
        Assert.Matches(@"InO cycles before HSCT\s+2-3", run.Out);
        Assert.Matches(@"Allogeneic HSCT\s+4/4", run.Out);
        Assert.Matches(@"Isolated extramedullary relapse after HSCT\s+1/4", run.Out);
        Assert.Matches(@"eye at 6 and 9 months after HSCT; palliative radiotherapy to Anterior chambers of both eyes \(Right and left\); CR 25 months later", run.Out);
        Assert.Matches(@"Status at last follow-up\s+CR 4/4", run.Out);
        Assert.Matches(@"Mean follow-up after HSCT, no relapse after HSCT\s+31\.3 months \(n=3\)", run.Out);
    }

    [Fact]
    public async Task Summary_json_is_machine_readable()
    {
        var run = await CliRun.Start("summary", CliRun.PaperBundle, "--json");

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        Assert.Equal(4, root.GetProperty("patients").GetInt32());
        Assert.Equal(3, root.GetProperty("mrdNegativeAfterIno").GetInt32());
        Assert.Equal(31.3m, root.GetProperty("meanFollowUpMonthsAfterHsctWithoutRelapse").GetDecimal());
        Assert.Equal(4, root.GetProperty("perPatient").GetArrayLength());
    }

    [Fact]
    public async Task Summary_reads_ndjson_exports()
    {
        // As a server exports them: one resource per line, urn:uuid references rewritten to Type/id.
        using var bundle = JsonDocument.Parse(File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, CliRun.PaperBundle)));
        var entries = bundle.RootElement.GetProperty("entry").EnumerateArray().ToList();
        var rewrite = entries.ToDictionary(e => e.GetProperty("fullUrl").GetString()!, e => e.GetProperty("request").GetProperty("url").GetString()!);
        var lines = entries.Select(e => rewrite.Aggregate(e.GetProperty("resource").GetRawText().ReplaceLineEndings(" "),
            (text, pair) => text.Replace(pair.Key, pair.Value, StringComparison.Ordinal)));
        File.WriteAllLines(_folder.File("export.ndjson"), lines);

        var fromNdjson = await CliRun.StartIn(_folder.Path, "summary", "export.ndjson", "--json");
        var fromBundle = await CliRun.Start("summary", CliRun.PaperBundle, "--json");

        Assert.Equal((0, ""), (fromNdjson.ExitCode, fromNdjson.Error));
        Assert.Equal(fromBundle.Out, fromNdjson.Out);
    }

    [Fact]
    public async Task A_generated_cohort_folder_gives_the_same_summary_as_ndjson_and_as_bundles()
    {
        var ndjson = await CliRun.StartIn(_folder.Path, "generate", "--patients", "12", "--seed", "3", "--format", "ndjson", "-o", "ndjson", "--quiet");
        var bundles = await CliRun.StartIn(_folder.Path, "generate", "--patients", "12", "--seed", "3", "--format", "bundles", "-o", "bundles", "--quiet");
        Assert.Equal((0, 0), (ndjson.ExitCode, bundles.ExitCode));

        var fromNdjson = await CliRun.StartIn(_folder.Path, "summary", "ndjson", "--json");
        var fromBundles = await CliRun.StartIn(_folder.Path, "summary", "bundles", "--json");

        Assert.Equal((0, ""), (fromNdjson.ExitCode, fromNdjson.Error));
        Assert.Equal((0, ""), (fromBundles.ExitCode, fromBundles.Error));
        Assert.Equal(12, JsonDocument.Parse(fromNdjson.Out).RootElement.GetProperty("patients").GetInt32());
        Assert.Equal(fromBundles.Out, fromNdjson.Out);
    }

    [Fact]
    public async Task References_outside_the_given_files_are_warned_about()
    {
        File.WriteAllText(_folder.File("one.json"), """
            { "resourceType": "Bundle", "type": "collection", "entry": [
              { "resource": { "resourceType": "Patient", "id": "p" } },
              { "resource": { "resourceType": "Observation", "id": "o", "status": "final", "code": { "text": "x" },
                              "subject": { "reference": "Patient/p" }, "focus": [ { "reference": "Condition/elsewhere" } ] } } ] }
            """);

        var run = await CliRun.StartIn(_folder.Path, "summary", "one.json");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("1 reference(s) point outside the given files (e.g. Condition/elsewhere)", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("broken.json", "{ \"resourceType\": \"Bundle\", ", "broken.json: not JSON: ")]
    [InlineData("export.ndjson", "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"bogus\":1}\n", "export.ndjson: line 2: ")]
    public async Task Unreadable_input_exits_2_naming_the_file_and_line(string file, string content, string expectedStart)
    {
        File.WriteAllText(_folder.File(file), content);

        var run = await CliRun.StartIn(_folder.Path, "summary", file);

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith(expectedStart, run.Error, StringComparison.Ordinal);
        Assert.Equal("", run.Out);
    }

    [Fact]
    public async Task Files_without_patients_exit_2()
    {
        File.WriteAllText(_folder.File("empty.json"), """{ "resourceType": "Bundle", "type": "collection" }""");

        var run = await CliRun.StartIn(_folder.Path, "summary", "empty.json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("no Patient", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Summary_without_files_is_a_usage_error()
    {
        var run = await CliRun.Start("summary", "--json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage: fhircase summary", run.Error, StringComparison.Ordinal);
    }
}
