using System.Diagnostics;

namespace FhirCaseService.Cli.Tests.CaseSeries;

public sealed class CliAppTests
{
    [Fact]
    public async Task Help_lists_every_registered_command()
    {
        var run = await CliRun.Start("help");

        Assert.Equal(0, run.ExitCode);
        Assert.All(Commands.CommandRegistry.All, c => Assert.Contains($"  {c.Name}", run.Out, StringComparison.Ordinal));
    }

    [Fact]
    public async Task No_arguments_show_the_command_list_and_exit_2()
    {
        var run = await CliRun.Start();

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("usage: fhircase <command>", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_exits_2_on_stderr()
    {
        var run = await CliRun.Start("transmogrify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unknown command 'transmogrify'", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("convert")]
    [InlineData("summary")]
    public async Task Command_help_prints_its_usage(string command)
    {
        var viaHelp = await CliRun.Start("help", command);
        var viaFlag = await CliRun.Start(command, "--help");

        Assert.Equal((0, 0), (viaHelp.ExitCode, viaFlag.ExitCode));
        Assert.StartsWith($"usage: fhircase {command}", viaHelp.Out, StringComparison.Ordinal);
        Assert.Equal(viaHelp.Out, viaFlag.Out);
    }

    [Fact]
    public async Task Built_fhircase_runs_as_a_real_process()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "fhircase.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "convert", CliRun.PaperRecord },
            WorkingDirectory = CliRun.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal((0, ""), (process.ExitCode, await stderr));
        Assert.Equal(File.ReadAllText(Path.Combine(CliRun.RepositoryRoot, CliRun.PaperBundle)), await stdout);
    }
}
