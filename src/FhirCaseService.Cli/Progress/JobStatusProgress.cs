namespace FhirCaseService.Cli.Progress;

/// <summary>
/// A server-side job's status while the client polls it (export and import): on a terminal redrawn with the delay to
/// the next check; in a log a line only when the status text changes, so a long wait is one line, not hundreds.
/// </summary>
public sealed class JobStatusProgress(ProgressLine line, string operation)
{
    private readonly Lock _gate = new();
    private string? _lastStatus;

    /// <summary>"export job in progress: 40% (checking again in 2 s)".</summary>
    public void Report(string status, TimeSpan nextCheck)
    {
        lock (_gate)
        {
            if (line.IsTerminal)
                line.Update($"{operation} job {status} (checking again in {Seconds(nextCheck)})", force: true);
            else if (status != _lastStatus)
                line.Milestone($"{operation} job {status}");
            _lastStatus = status;
        }
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds < 10 ? $"{span.TotalSeconds:0.#} s" : $"{span.TotalSeconds:0} s";
}
