using System.Diagnostics;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// "validated 120/3400 files" on one rewritten stderr line, for people watching a terminal. Off when stderr is
/// redirected (CI logs would fill with carriage returns), in quiet mode, and for a handful of files.
/// Redrawn at most ten times a second; thread-safe because files are validated in parallel.
/// </summary>
public sealed class ValidateProgress
{
    /// <summary>Below this many files a run finishes before a progress line would help.</summary>
    public const int MinimumFiles = 20;

    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private readonly TextWriter? _terminal;
    private readonly int _total;
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private int _done;
    private int _drawnWidth;

    private ValidateProgress(TextWriter? terminal, int total)
    {
        _terminal = terminal;
        _total = total;
    }

    public static ValidateProgress For(TextWriter error, bool errorIsTerminal, bool quiet, int total) =>
        new(errorIsTerminal && !quiet && total >= MinimumFiles ? error : null, total);

    public bool IsShown => _terminal is not null;

    public void FileDone()
    {
        if (_terminal is null)
            return;
        lock (_gate)
        {
            _done++;
            if (_done < _total && _sinceRedraw.Elapsed < RedrawInterval)
                return;
            _sinceRedraw.Restart();
            var line = $"validated {_done}/{_total} files";
            _terminal.Write("\r" + line);
            _drawnWidth = line.Length;
            _terminal.Flush();
        }
    }

    /// <summary>Clears the progress line so the report starts on a clean line.</summary>
    public void Finish()
    {
        if (_terminal is null || _drawnWidth == 0)
            return;
        lock (_gate)
        {
            _terminal.Write("\r" + new string(' ', _drawnWidth) + "\r");
            _terminal.Flush();
        }
    }
}
