using System.Text.Json;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Generate;

/// <summary>`fhircase generate` writing real files through the synthetic cohort writer, and `fhircase validate` over them.</summary>
public sealed class GenerateEndToEndTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private Task<CliRun> Generate(params string[] arguments) => CliRun.StartIn(_folder.Path, ["generate", .. arguments, "--quiet"]);

    private IReadOnlyDictionary<string, byte[]> Files(string directory) =>
        Directory.GetFiles(_folder.File(directory), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(_folder.File(directory), f), File.ReadAllBytes);

    [Fact]
    public async Task Ndjson_writes_one_file_per_resource_type_that_validate_passes()
    {
        var run = await Generate("--patients", "3", "--format", "ndjson", "-o", "cohort");

        Assert.True(run.ExitCode == 0, run.Error);
        var files = Directory.GetFiles(_folder.File("cohort"), "*.ndjson");
        Assert.Contains(_folder.File("cohort/Patient.ndjson"), files);
        foreach (var file in files)
        {
            var type = Path.GetFileNameWithoutExtension(file);
            var lines = File.ReadLines(file).Where(l => l.Length > 0).ToList();
            Assert.NotEmpty(lines);
            Assert.All(lines, line => Assert.Equal(type, JsonDocument.Parse(line).RootElement.GetProperty("resourceType").GetString()));
            Assert.Contains($"  {type} ", run.Out);
        }
        Assert.Equal(3, File.ReadLines(_folder.File("cohort/Patient.ndjson")).Count(l => l.Length > 0));
        Assert.Contains($"for 3 patients (seed 1) in {files.Length} files to cohort", run.Out);

        var validate = await CliRun.StartIn(_folder.Path, "validate", "cohort");

        Assert.True(validate.ExitCode == 0, validate.Out + validate.Error);
    }

    [Fact]
    public async Task Bundles_writes_one_transaction_bundle_per_patient_that_validate_passes()
    {
        var run = await Generate("--patients", "4", "--format", "bundles", "-o", "bundles");

        Assert.True(run.ExitCode == 0, run.Error);
        // patient-NNNNNN.json per patient; the cohort's Group comes in a Bundle of its own (patients-group.json).
        var files = Directory.GetFiles(_folder.File("bundles"), "patient-*.json");
        Assert.Equal(4, files.Length);
        Assert.All(files, file =>
        {
            using var bundle = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal("Bundle", bundle.RootElement.GetProperty("resourceType").GetString());
            Assert.Equal("transaction", bundle.RootElement.GetProperty("type").GetString());
            Assert.Single(bundle.RootElement.GetProperty("entry").EnumerateArray(), e => e.GetProperty("resource").GetProperty("resourceType").GetString() == "Patient");
        });

        var validate = await CliRun.StartIn(_folder.Path, "validate", "bundles");

        Assert.True(validate.ExitCode == 0, validate.Out + validate.Error);
    }

    [Fact]
    public async Task The_same_seed_writes_the_same_bytes_and_another_seed_other_ones()
    {
        var first = await Generate("--patients", "5", "--seed", "7", "--format", "ndjson", "-o", "first");
        var again = await Generate("--patients", "5", "--seed", "7", "--format", "ndjson", "-o", "again");
        var other = await Generate("--patients", "5", "--seed", "8", "--format", "ndjson", "-o", "other");

        Assert.Equal((0, 0, 0), (first.ExitCode, again.ExitCode, other.ExitCode));
        var firstFiles = Files("first");
        var againFiles = Files("again");
        Assert.Equal(firstFiles.Keys.Order(), againFiles.Keys.Order());
        Assert.All(firstFiles, f => Assert.Equal(f.Value, againFiles[f.Key]));
        Assert.NotEqual(firstFiles["Patient.ndjson"], Files("other")["Patient.ndjson"]);
    }

    [Fact]
    public async Task Progress_in_a_log_ends_with_the_whole_cohort()
    {
        var run = await CliRun.StartIn(_folder.Path, "generate", "--patients", "10", "--format", "ndjson", "-o", "progress");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.EndsWith("generated 10/10 patients", run.Error.TrimEnd());
        Assert.DoesNotContain('\r', run.Error);
    }
}
