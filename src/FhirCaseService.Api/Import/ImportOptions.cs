using FhirCaseService.Api.Jobs;
using FhirCaseService.Storage;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Import;

/// <summary>Bulk NDJSON <c>$import</c> settings. Bind from configuration section "Import".</summary>
public sealed class ImportOptions : ILeasedJobOptions
{
    public const string Section = "Import";

    /// <summary>Largest accepted body, counted after gzip decoding (what is spooled); over it the kick-off answers 413.</summary>
    public long MaxBodyBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Where accepted bodies are spooled; default "&lt;Storage:DataDirectory&gt;/imports". Several replicas: a volume all of them share.</summary>
    public string? SpoolDirectory { get; set; }

    /// <summary>Input lines stored per database transaction (the unit of resume after a restart).</summary>
    public int ChunkLines { get; set; } = 1000;

    /// <summary>
    /// Judged chunks that may wait in line for their commit, besides the one committing and the one being judged: the
    /// cores go on judging while a commit runs long. Each holds up to ChunkLines prepared resources in memory.
    /// </summary>
    public int ChunksAhead { get; set; } = 1;

    /// <summary>Lines validated at once (parsing and validation run outside the write lock); default: one per processor.</summary>
    public int ValidationParallelism { get; set; } = Environment.ProcessorCount;

    /// <summary>How long a claimed job stays this replica's without a renewal; renewed with every chunk and by a keep-alive.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle runner looks for queued jobs (and jobs whose replica died).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Jobs this replica runs at once; 0 makes it accept and answer but never run jobs.</summary>
    public int MaxConcurrentJobs { get; set; } = 1;

    /// <summary>How long a finished job's status, error file and spooled input stay.</summary>
    public TimeSpan ResultRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often expired jobs are removed.</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Retry-After sent with a 202 status answer, in seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 2;

    /// <summary>A job that failed this many attempts (each claim is one) is marked failed instead of being retried.</summary>
    public int MaxAttempts { get; set; } = 3;

    TimeSpan ILeasedJobOptions.Retention => ResultRetention;

    public string ResolveSpoolDirectory(StorageOptions storage) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(SpoolDirectory) ? Path.Combine(storage.DataDirectory, "imports") : SpoolDirectory);
}

/// <summary>Refuses settings the runner cannot work with, at start-up.</summary>
public sealed class ImportOptionsCheck : IValidateOptions<ImportOptions>
{
    public ValidateOptionsResult Validate(string? name, ImportOptions options)
    {
        var problems = new List<string>();
        if (options.MaxBodyBytes < 1) problems.Add("Import:MaxBodyBytes must be at least 1.");
        if (options.ChunkLines < 1) problems.Add("Import:ChunkLines must be at least 1.");
        if (options.ChunksAhead < 1) problems.Add("Import:ChunksAhead must be at least 1.");
        if (options.ValidationParallelism < 1) problems.Add("Import:ValidationParallelism must be at least 1.");
        if (options.Lease < TimeSpan.FromMilliseconds(300)) problems.Add("Import:Lease must be at least 300 ms.");
        if (options.PollInterval <= TimeSpan.Zero) problems.Add("Import:PollInterval must be positive.");
        if (options.MaxConcurrentJobs < 0) problems.Add("Import:MaxConcurrentJobs must be 0 or more.");
        if (options.ResultRetention <= TimeSpan.Zero) problems.Add("Import:ResultRetention must be positive.");
        if (options.CleanupInterval <= TimeSpan.Zero) problems.Add("Import:CleanupInterval must be positive.");
        if (options.RetryAfterSeconds < 1) problems.Add("Import:RetryAfterSeconds must be at least 1.");
        if (options.MaxAttempts < 1) problems.Add("Import:MaxAttempts must be at least 1.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
