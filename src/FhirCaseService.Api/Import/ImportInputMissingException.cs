namespace FhirCaseService.Api.Import;

/// <summary>The job's spooled input is not on this replica's disk (a spool directory that replicas do not share).</summary>
internal sealed class ImportInputMissingException(string jobId)
    : Exception($"The input of import job {jobId} is not in this replica's Import:SpoolDirectory (replicas must share that directory).");
