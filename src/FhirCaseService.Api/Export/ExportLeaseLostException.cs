namespace FhirCaseService.Api.Export;

/// <summary>The lease was lost (the job was cancelled, or another replica took it over): stop writing at once.</summary>
public sealed class ExportLeaseLostException(string jobId) : Exception($"Export job {jobId} is no longer this runner's.");
