using FhirCaseService.Cli.Progress;

namespace FhirCaseService.Cli.Generate;

/// <summary>
/// "generated 1200/100000 patients" on the <see cref="ProgressLine"/> every long-running command uses: redrawn in place
/// on a terminal, a line at every tenth of the cohort in a log, nothing with --quiet. Reports arrive on the writer's
/// thread, in order (unlike <see cref="Progress{T}"/>, which posts them to the thread pool).
/// </summary>
public sealed class GenerateProgress(ProgressLine line, int patients) : IProgress<int>
{
    private int _lastTenth;

    public void Report(int value)
    {
        if (!line.Shows)
            return;
        var text = $"generated {value}/{patients} patients";
        if (line.IsTerminal)
        {
            line.Update(text, force: value == patients);
            return;
        }
        var tenth = (int)(value * 10L / patients);
        if (tenth <= _lastTenth)
            return;
        _lastTenth = tenth;
        line.Milestone(text);
    }

    public void Finish() => line.Finish();
}
