namespace FhirCaseService.Storage.Jobs;

/// <summary>
/// Where any leased job stands. Each job kind's own status enum takes its values from these, so a job's status converts
/// to this one by value.
/// </summary>
public enum LeasedJobStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}
