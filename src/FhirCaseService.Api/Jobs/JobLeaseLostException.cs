namespace FhirCaseService.Api.Jobs;

/// <summary>The lease was lost (the job was cancelled, or another replica took it over): stop writing at once.</summary>
public sealed class JobLeaseLostException(string kind, string jobId) : Exception($"{kind} job {jobId} is no longer this runner's.");
