namespace FhirCaseService.Cli.Tests.CaseSeries;

public sealed class ConvertCommandTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task Convert_writes_the_bundle_to_stdout_without_output_option()
    {
        var run = await CliRun.Start("convert", CliRun.PaperRecord);

        Assert.Equal((0, ""), (run.ExitCode, run.Error));
        Assert.Equal(File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, CliRun.PaperBundle)), run.Out);
    }

    [Theory]
    [InlineData("-o")]
    [InlineData("--output")]
    public async Task Convert_writes_the_bundle_to_the_output_file(string option)
    {
        var output = _folder.File("bundle.json");

        var run = await CliRun.Start("convert", CliRun.PaperRecord, option, output);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Out);
        Assert.Equal(File.ReadAllBytes(Path.Combine(CliRun.RepositoryRoot, CliRun.PaperBundle)), File.ReadAllBytes(output));
        Assert.Contains("wrote 83 entries", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_record_exits_2_naming_file_line_field_and_rule_and_writes_nothing()
    {
        var record = _folder.File("bad.json");
        File.WriteAllText(record, File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, CliRun.PaperRecord))
            .Replace("\"diseaseStatus\": \"CR\"", "\"diseaseStatus\": \"cured\"", StringComparison.Ordinal));
        var output = _folder.File("out.json");

        var run = await CliRun.StartIn(_folder.Path, "convert", "bad.json", "-o", output);

        Assert.Equal(2, run.ExitCode);
        Assert.False(File.Exists(output));
        Assert.Matches(@"^bad\.json:\d+:\d+: patients\[0\]\.followUp\.diseaseStatus: 'cured' is not a known code", run.Error);
        Assert.Contains("[unknown-code]", run.Error, StringComparison.Ordinal);
        Assert.Contains("4 error(s)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_input_file_exits_2_with_the_file_name()
    {
        var run = await CliRun.StartIn(_folder.Path, "convert", "nowhere.json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("cannot read nowhere.json", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("convert")]
    [InlineData("convert", "a.json", "b.json")]
    [InlineData("convert", "a.json", "--format", "xml")]
    [InlineData("convert", "a.json", "-o")]
    public async Task Wrong_usage_exits_2_and_shows_the_usage(params string[] args)
    {
        var run = await CliRun.Start(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage: fhircase convert", run.Error, StringComparison.Ordinal);
    }
}
