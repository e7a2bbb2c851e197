using FhirCaseService.CaseSeries.Synthetic;
using FhirCaseService.Cli.Generate;
using FhirCaseService.Cli.Tests.CaseSeries;

namespace FhirCaseService.Cli.Tests.Generate;

public sealed class GenerateArgumentsTests
{
    [Fact]
    public void Patients_seed_format_and_folder_are_read_with_seed_1_by_default()
    {
        var bundles = GenerateArguments.Parse(["--patients", "10", "--format", "bundles", "-o", "out"], out var error);
        var ndjson = GenerateArguments.Parse(["--patients=3", "--seed", "42", "--format=ndjson", "--output", "cohort", "--quiet"], out _);

        Assert.Null(error);
        Assert.Equal(new GenerateArguments(new SyntheticCohortOptions(10, 1), SyntheticOutputFormat.Bundles, "out", false), bundles);
        Assert.Equal(new GenerateArguments(new SyntheticCohortOptions(3, 42), SyntheticOutputFormat.Ndjson, "cohort", true), ndjson);
    }

    [Theory]
    [InlineData(new[] { "--format", "bundles", "-o", "out" }, "--patients N is required")]
    [InlineData(new[] { "--patients", "0", "--format", "bundles", "-o", "out" }, "--patients must be a whole number of 1 or more (got '0')")]
    [InlineData(new[] { "--patients", "ten", "--format", "bundles", "-o", "out" }, "--patients must be a whole number of 1 or more (got 'ten')")]
    [InlineData(new[] { "--patients", "10", "--seed", "x", "--format", "bundles", "-o", "out" }, "--seed must be a whole number (got 'x')")]
    [InlineData(new[] { "--patients", "10", "-o", "out" }, "--format bundles|ndjson is required")]
    [InlineData(new[] { "--patients", "10", "--format", "csv", "-o", "out" }, "--format must be bundles or ndjson (got 'csv')")]
    [InlineData(new[] { "--patients", "10", "--format", "bundles" }, "-o DIR is required")]
    [InlineData(new[] { "--patients", "10", "--format", "bundles", "out" }, "unexpected argument 'out' (the output folder is given with -o DIR)")]
    [InlineData(new[] { "--patients", "10", "--patients", "20", "--format", "bundles", "-o", "out" }, "option --patients given more than once")]
    public void Bad_command_lines_are_usage_errors_that_say_what_is_wrong(string[] arguments, string message)
    {
        Assert.Null(GenerateArguments.Parse(arguments, out var error));
        Assert.StartsWith(message, error);
    }

    [Fact]
    public async Task A_usage_error_exits_2_with_the_message_and_the_usage_on_stderr_and_writes_nothing()
    {
        using var folder = new TemporaryFolder();

        var run = await CliRun.StartIn(folder.Path, "generate", "--patients", "0", "--format", "ndjson", "-o", "out");

        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith("fhircase generate: --patients must be", run.Error);
        Assert.Contains("usage: fhircase generate --patients N", run.Error);
        Assert.False(Directory.Exists(folder.File("out")));
    }

    [Fact]
    public async Task Help_prints_the_usage()
    {
        var viaHelp = await CliRun.Start("help", "generate");
        var viaFlag = await CliRun.Start("generate", "-h");

        Assert.Equal((0, 0), (viaHelp.ExitCode, viaFlag.ExitCode));
        Assert.StartsWith("usage: fhircase generate", viaHelp.Out);
        Assert.Equal(viaHelp.Out, viaFlag.Out);
    }

    [Fact]
    public void Progress_in_a_log_is_a_line_per_tenth_of_the_cohort()
    {
        var log = new StringWriter();
        var progress = new GenerateProgress(new FhirCaseService.Cli.Progress.ProgressLine(log, errorIsTerminal: false, quiet: false), 20);

        for (var i = 1; i <= 20; i++)
            progress.Report(i);

        Assert.Equal(Enumerable.Range(1, 10).Select(t => $"generated {t * 2}/20 patients"), log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
