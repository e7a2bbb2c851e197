namespace FhirCaseService.Api.Export;

/// <summary>The error file's position at the last checkpoint (same units as <see cref="TypeCheckpoint.FileLength"/>).</summary>
public sealed class ErrorFileCheckpoint
{
    public long FileLength { get; set; }
    public long FileLines { get; set; }
}
