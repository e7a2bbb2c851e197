using FhirCaseService.Cli.Progress;

namespace FhirCaseService.Cli.Validate;

/// <summary>
/// "validated 120/3400 files" on the <see cref="ProgressLine"/> every long-running command uses, redrawn in place on a
/// terminal. A file is no milestone: in a log validate writes no progress at all (its report follows at once), and none
/// in quiet mode or for a handful of files. Thread-safe because files are validated in parallel.
/// </summary>
public sealed class ValidateProgress
{
    /// <summary>Below this many files a run finishes before a progress line would help.</summary>
    public const int MinimumFiles = 20;

    private readonly ProgressLine? _line;
    private readonly int _total;
    private int _done;

    private ValidateProgress(ProgressLine? line, int total)
    {
        _line = line;
        _total = total;
    }

    public static ValidateProgress For(TextWriter error, bool errorIsTerminal, bool quiet, int total) =>
        new(errorIsTerminal && !quiet && total >= MinimumFiles ? new ProgressLine(error, errorIsTerminal, quiet) : null, total);

    public bool IsShown => _line is not null;

    public void FileDone()
    {
        if (_line is null)
            return;
        var done = Interlocked.Increment(ref _done);
        _line.Update($"validated {done}/{_total} files", force: done == _total);
    }

    /// <summary>Clears the progress line so the report starts on a clean line.</summary>
    public void Finish() => _line?.Finish();
}
