using System.Diagnostics;

namespace FhirCaseService.Cli.Progress;

/// <summary>
/// How every long-running command (validate, export, import, generate) shows progress on stderr. On a terminal one
/// line is rewritten in place (<see cref="Update"/>, at most ten redraws a second); when stderr is a log, only
/// <see cref="Milestone"/> lines are written, one each, so CI logs stay short; with --quiet nothing but
/// <see cref="Message"/>. Thread-safe: every stderr write of a command goes through one instance.
/// </summary>
public sealed class ProgressLine(TextWriter error, bool errorIsTerminal, bool quiet)
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private readonly Lock _gate = new();
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private int _drawnWidth;

    /// <summary>False with --quiet: callers may skip building their texts.</summary>
    public bool Shows => !quiet;

    public bool IsTerminal => errorIsTerminal;

    /// <summary>Live state ("validated 120/3400 files"): redrawn on a terminal unless redrawn less than 100 ms ago (or <paramref name="force"/>); never logged.</summary>
    public void Update(string text, bool force = false)
    {
        if (quiet || !errorIsTerminal)
            return;
        lock (_gate)
        {
            if (!force && _drawnWidth > 0 && _sinceRedraw.Elapsed < RedrawInterval)
                return;
            Draw(text);
        }
    }

    /// <summary>A step worth a log line ("downloaded Patient.1.ndjson"): drawn in place on a terminal, a line of its own in a log.</summary>
    public void Milestone(string text)
    {
        if (quiet)
            return;
        lock (_gate)
        {
            if (errorIsTerminal)
                Draw(text);
            else
                WriteLine(text);
        }
    }

    /// <summary>A line that must be seen whatever the mode (a warning, an error): clears the progress line first.</summary>
    public void Message(string line)
    {
        lock (_gate)
        {
            Clear();
            WriteLine(line);
        }
    }

    /// <summary>Clears the progress line so what follows starts on a clean line.</summary>
    public void Finish()
    {
        lock (_gate)
            Clear();
    }

    private void Draw(string line)
    {
        _sinceRedraw.Restart();
        var padding = _drawnWidth > line.Length ? new string(' ', _drawnWidth - line.Length) : string.Empty;
        error.Write("\r" + line + padding);
        _drawnWidth = line.Length;
        error.Flush();
    }

    private void WriteLine(string line)
    {
        error.WriteLine(line);
        error.Flush();
    }

    private void Clear()
    {
        if (_drawnWidth == 0)
            return;
        error.Write("\r" + new string(' ', _drawnWidth) + "\r");
        _drawnWidth = 0;
        error.Flush();
    }
}
