using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Progress;

namespace FhirCaseService.Cli.Import;

/// <summary>
/// The import's progress on stderr, through the <see cref="ProgressLine"/> every long-running command uses: while the
/// files are sent, files, resources and bytes (a line per file in a log); then the server job's status while polling.
/// Silent with --quiet. Every stderr write of the command goes through here (<see cref="Message"/>).
/// </summary>
public sealed class ImportProgress
{
    private readonly ProgressLine _line;
    private readonly JobStatusProgress _jobStatus;
    private readonly Lock _gate = new();
    private int _filesTotal;
    private int _filesSent;
    private long _resources;
    private long _bytes;

    public ImportProgress(TextWriter error, bool errorIsTerminal, bool quiet)
    {
        _line = new ProgressLine(error, errorIsTerminal, quiet);
        _jobStatus = new JobStatusProgress(_line, "import");
    }

    /// <summary>The body is (re)started: counts begin at zero.</summary>
    public void UploadStarting(int files)
    {
        lock (_gate)
        {
            _filesTotal = files;
            _filesSent = 0;
            _resources = 0;
            _bytes = 0;
        }
    }

    public void LineSent(int bytes)
    {
        lock (_gate)
        {
            _resources++;
            _bytes += bytes;
            _line.Update(UploadText());
        }
    }

    public void FileSent(string name, long resources, long bytes)
    {
        lock (_gate)
        {
            _filesSent++;
            if (_line.IsTerminal)
                _line.Update(UploadText(), force: true);
            else
                _line.Milestone($"sent {name} ({resources} {(resources == 1 ? "resource" : "resources")}, {ExportProgress.Size(bytes)}) [{_filesSent}/{_filesTotal}]");
        }
    }

    /// <summary>The job is still running: "import job in progress: 40% (checking again in 2 s)".</summary>
    public void JobStatus(string status, TimeSpan nextCheck) => _jobStatus.Report(status, nextCheck);

    /// <summary>A line that must be seen (a warning, an error): clears the progress line first.</summary>
    public void Message(string line) => _line.Message(line);

    /// <summary>A step worth a log line ("import started; job status at ...").</summary>
    public void Milestone(string line) => _line.Milestone(line);

    public void Finish() => _line.Finish();

    private string UploadText() => $"sending: {_filesSent}/{_filesTotal} files, {_resources} resources, {ExportProgress.Size(_bytes)}";
}
