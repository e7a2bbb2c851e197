using System.Diagnostics;

namespace FhirCaseService.Cli.Export;

/// <summary>
/// The export's progress on stderr. On a terminal one line is rewritten in place (the job's status while polling,
/// files and bytes while downloading); when stderr is a log, a line is written when the job's status text changes and
/// when each file is done, so CI logs stay short. Silent with --quiet. Every stderr write of the command goes through
/// here (<see cref="Message"/>), under one lock, because downloads run in parallel.
/// </summary>
public sealed class ExportProgress
{
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);
    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly bool _quiet;
    private readonly Lock _gate = new();
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private int _drawnWidth;
    private string? _lastStatus;
    private int _filesTotal;
    private int _filesDone;
    private long _bytes;

    public ExportProgress(TextWriter error, bool errorIsTerminal, bool quiet)
    {
        _error = error;
        _terminal = errorIsTerminal;
        _quiet = quiet;
    }

    /// <summary>The job is still running: "export job running: 40% (checking again in 2 s)".</summary>
    public void JobStatus(string status, TimeSpan nextCheck)
    {
        if (_quiet)
            return;
        lock (_gate)
        {
            if (_terminal)
                Draw($"export job {status} (checking again in {Seconds(nextCheck)})");
            else if (status != _lastStatus)
                WriteLine($"export job {status}");
            _lastStatus = status;
        }
    }

    public void DownloadsStarting(int total, int alreadyDone)
    {
        lock (_gate)
        {
            _filesTotal = total;
            _filesDone = alreadyDone;
            _bytes = 0;
        }
        if (!_quiet && alreadyDone > 0)
            Message($"resuming: {alreadyDone} of {total} files already downloaded");
    }

    public void BytesReceived(int count)
    {
        if (_quiet || !_terminal)
        {
            Interlocked.Add(ref _bytes, count);
            return;
        }
        lock (_gate)
        {
            _bytes += count;
            if (_sinceRedraw.Elapsed >= RedrawInterval)
                DrawDownloads();
        }
    }

    public void FileDone(string name, long size)
    {
        if (_quiet)
            return;
        lock (_gate)
        {
            _filesDone++;
            if (_terminal)
                DrawDownloads();
            else
                WriteLine($"downloaded {name} ({Size(size)}) [{_filesDone}/{_filesTotal}]");
        }
    }

    /// <summary>A line that must be seen (a warning, an error): clears the progress line first.</summary>
    public void Message(string line)
    {
        lock (_gate)
        {
            Clear();
            _error.WriteLine(line);
            _error.Flush();
        }
    }

    /// <summary>Clears the progress line so what follows starts on a clean line.</summary>
    public void Finish()
    {
        lock (_gate)
            Clear();
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KB",
        _ => $"{bytes / (1024.0 * 1024):0.0} MB",
    };

    private static string Seconds(TimeSpan span) => span.TotalSeconds < 10 ? $"{span.TotalSeconds:0.#} s" : $"{span.TotalSeconds:0} s";

    private void DrawDownloads() => Draw($"downloading: {_filesDone}/{_filesTotal} files, {Size(_bytes)}");

    private void Draw(string line)
    {
        _sinceRedraw.Restart();
        var padding = _drawnWidth > line.Length ? new string(' ', _drawnWidth - line.Length) : string.Empty;
        _error.Write("\r" + line + padding);
        _drawnWidth = line.Length;
        _error.Flush();
    }

    private void WriteLine(string line)
    {
        _error.WriteLine(line);
        _error.Flush();
    }

    private void Clear()
    {
        if (_drawnWidth == 0)
            return;
        _error.Write("\r" + new string(' ', _drawnWidth) + "\r");
        _drawnWidth = 0;
    }
}
