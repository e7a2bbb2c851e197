namespace FhirCaseService.Storage.Jobs;

/// <summary>What the shared job machinery (claiming, running, status answers) needs to know of any job kind.</summary>
public interface ILeasedJob
{
    string Id { get; }

    /// <summary>Claims so far (each claim is one attempt).</summary>
    int Attempts { get; }

    LeasedJobStatus LeasedStatus { get; }

    /// <summary>The client that started the job: with authorization on, only it may see the job.</summary>
    string? ClientId { get; }

    string? Error { get; }

    DateTimeOffset? ExpiresAt { get; }
}
