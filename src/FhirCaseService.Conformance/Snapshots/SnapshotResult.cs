using Hl7.Fhir.Model;

namespace FhirCaseService.Conformance.Snapshots;

/// <summary>
/// A StructureDefinition with a snapshot, and what the snapshot generator said while making it
/// (empty when the definition already carried a snapshot). The definition is shared: do not mutate.
/// </summary>
public sealed record SnapshotResult(StructureDefinition Definition, IReadOnlyList<OperationOutcome.IssueComponent> Issues)
{
    public bool HasErrors => Issues.Any(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);
}
