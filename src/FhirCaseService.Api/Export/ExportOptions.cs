using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Export;

/// <summary>Where the runner writes export files.</summary>
public enum ExportOutput
{
    /// <summary>NDJSON files under <see cref="ExportOptions.OutputDirectory"/> (a shared volume when several replicas run).</summary>
    Directory,
    /// <summary>NDJSON kept as chunks in the database: nothing to share between replicas but the database itself.</summary>
    Database,
}

/// <summary>Bulk Data $export settings. Bind from configuration section "Export".</summary>
public sealed class ExportOptions : ILeasedJobOptions
{
    public const string Section = "Export";

    public ExportOutput Output { get; set; } = ExportOutput.Directory;

    /// <summary>Directory output only; default "&lt;Storage:DataDirectory&gt;/exports" (also for PostgreSQL, where DataDirectory defaults to "data").</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>A type's output is split into files of at most this many resources.</summary>
    public int MaxResourcesPerFile { get; set; } = 100_000;

    /// <summary>Rows written between checkpoints (flush, fsync, progress stored with the lease renewal).</summary>
    public int CheckpointRows { get; set; } = 5000;

    /// <summary>How long a claimed job stays this replica's without a renewal; renewed at least every third of it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle runner looks for queued jobs (and for jobs whose replica died).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Jobs this replica runs at once; 0 makes it an API-only replica that accepts and answers but never runs jobs.</summary>
    public int MaxConcurrentJobs { get; set; } = 2;

    /// <summary>How long a finished job's files (and status) stay available.</summary>
    public TimeSpan FileRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often expired jobs' files and rows are removed.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Retry-After sent with a 202 status answer, in seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>Database output only: bytes buffered before a chunk is written.</summary>
    public int DatabaseChunkBytes { get; set; } = 1 << 20;

    /// <summary>A job that failed this many attempts (each claim is one) is marked failed instead of being retried.</summary>
    public int MaxAttempts { get; set; } = 3;

    TimeSpan ILeasedJobOptions.Retention => FileRetention;

    /// <summary>The directory files go to: the configured one, or "exports" under the storage data directory.</summary>
    public string ResolveOutputDirectory(StorageOptions storage) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(OutputDirectory) ? Path.Combine(storage.DataDirectory, "exports") : OutputDirectory);
}

/// <summary>Refuses settings the runner cannot work with, at start-up rather than at the first export.</summary>
public sealed class ExportOptionsCheck : IValidateOptions<ExportOptions>
{
    public ValidateOptionsResult Validate(string? name, ExportOptions options)
    {
        var problems = new List<string>();
        if (options.MaxResourcesPerFile < 1) problems.Add("Export:MaxResourcesPerFile must be at least 1.");
        if (options.CheckpointRows < 1) problems.Add("Export:CheckpointRows must be at least 1.");
        if (options.Lease < TimeSpan.FromMilliseconds(300)) problems.Add("Export:Lease must be at least 300 ms.");
        if (options.PollInterval <= TimeSpan.Zero) problems.Add("Export:PollInterval must be positive.");
        if (options.MaxConcurrentJobs < 0) problems.Add("Export:MaxConcurrentJobs must be 0 or more.");
        if (options.FileRetention <= TimeSpan.Zero) problems.Add("Export:FileRetention must be positive.");
        if (options.CleanupInterval <= TimeSpan.Zero) problems.Add("Export:CleanupInterval must be positive.");
        if (options.RetryAfterSeconds < 1) problems.Add("Export:RetryAfterSeconds must be at least 1.");
        if (options.DatabaseChunkBytes < 1024) problems.Add("Export:DatabaseChunkBytes must be at least 1024.");
        if (options.MaxAttempts < 1) problems.Add("Export:MaxAttempts must be at least 1.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
