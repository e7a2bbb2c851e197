using FhirCaseService.Cli.Validate;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateProgressTests
{
    [Fact]
    public void Progress_is_drawn_on_a_terminal_for_many_files_and_cleared_at_the_end()
    {
        var terminal = new StringWriter();
        var progress = ValidateProgress.For(terminal, errorIsTerminal: true, quiet: false, total: 25);

        for (var i = 0; i < 25; i++)
            progress.FileDone();
        progress.Finish();

        Assert.Contains("\rvalidated 25/25 files", terminal.ToString());
        Assert.EndsWith("\r", terminal.ToString());
    }

    [Theory]
    [InlineData(false, false, 100)]
    [InlineData(true, true, 100)]
    [InlineData(true, false, ValidateProgress.MinimumFiles - 1)]
    public void Progress_stays_silent_when_redirected_quiet_or_for_few_files(bool terminal, bool quiet, int total)
    {
        var writer = new StringWriter();
        var progress = ValidateProgress.For(writer, terminal, quiet, total);

        progress.FileDone();
        progress.Finish();

        Assert.False(progress.IsShown);
        Assert.Equal(string.Empty, writer.ToString());
    }
}
