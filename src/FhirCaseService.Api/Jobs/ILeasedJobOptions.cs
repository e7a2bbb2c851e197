namespace FhirCaseService.Api.Jobs;

/// <summary>The settings every leased job kind has (each kind binds them from its own configuration section).</summary>
public interface ILeasedJobOptions
{
    /// <summary>How long a claimed job stays this replica's without a renewal; renewed at least every third of it.</summary>
    TimeSpan Lease { get; }

    /// <summary>How often an idle runner looks for queued jobs (and for jobs whose replica died).</summary>
    TimeSpan PollInterval { get; }

    /// <summary>Jobs this replica runs at once; 0 makes it accept and answer but never run jobs.</summary>
    int MaxConcurrentJobs { get; }

    /// <summary>How often expired jobs are removed.</summary>
    TimeSpan CleanupInterval { get; }

    /// <summary>A job that failed this many attempts (each claim is one) is marked failed instead of being retried.</summary>
    int MaxAttempts { get; }

    /// <summary>How long a finished job (its status and what it produced) stays available.</summary>
    TimeSpan Retention { get; }

    /// <summary>Retry-After sent with a 202 status answer, in seconds.</summary>
    int RetryAfterSeconds { get; }
}
