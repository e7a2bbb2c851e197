using FhirCaseService.Cli.Progress;

namespace FhirCaseService.Cli.Export;

/// <summary>
/// The export's progress on stderr, through the <see cref="ProgressLine"/> every long-running command uses: on a
/// terminal the job's status while polling, then files and bytes while downloading, rewritten in place; in a log a line
/// when the job's status text changes and when each file is done. Silent with --quiet. Every stderr write of the command
/// goes through here (<see cref="Message"/>), because downloads run in parallel.
/// </summary>
public sealed class ExportProgress
{
    private readonly ProgressLine _line;
    private readonly JobStatusProgress _jobStatus;
    private readonly Lock _gate = new();
    private int _filesTotal;
    private int _filesDone;
    private long _bytes;

    public ExportProgress(TextWriter error, bool errorIsTerminal, bool quiet)
    {
        _line = new ProgressLine(error, errorIsTerminal, quiet);
        _jobStatus = new JobStatusProgress(_line, "export");
    }

    /// <summary>The job is still running: "export job in progress: 40% (checking again in 2 s)".</summary>
    public void JobStatus(string status, TimeSpan nextCheck) => _jobStatus.Report(status, nextCheck);

    public void DownloadsStarting(int total, int alreadyDone)
    {
        lock (_gate)
        {
            _filesTotal = total;
            _filesDone = alreadyDone;
            _bytes = 0;
        }
        if (_line.Shows && alreadyDone > 0)
            Message($"resuming: {alreadyDone} of {total} files already downloaded");
    }

    public void BytesReceived(int count)
    {
        lock (_gate)
        {
            _bytes += count;
            _line.Update(DownloadsText());
        }
    }

    public void FileDone(string name, long size)
    {
        lock (_gate)
        {
            _filesDone++;
            if (_line.IsTerminal)
                _line.Update(DownloadsText(), force: true);
            else
                _line.Milestone($"downloaded {name} ({Size(size)}) [{_filesDone}/{_filesTotal}]");
        }
    }

    /// <summary>A line that must be seen (a warning, an error): clears the progress line first.</summary>
    public void Message(string line) => _line.Message(line);

    /// <summary>Clears the progress line so what follows starts on a clean line.</summary>
    public void Finish() => _line.Finish();

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.0} KB",
        _ => $"{bytes / (1024.0 * 1024):0.0} MB",
    };

    private string DownloadsText() => $"downloading: {_filesDone}/{_filesTotal} files, {Size(_bytes)}";
}
