namespace FhirCaseService.Api.Export;

/// <summary>
/// One type's position, as of the last checkpoint: the rows up to <see cref="AfterKey"/> are durably written to its
/// output files (this sequence) and, for a _since export, the deletions among them to its <see cref="Deleted"/> files.
/// </summary>
public sealed class TypeCheckpoint : IFileSequenceCheckpoint
{
    public required string Type { get; init; }
    public long AfterKey { get; set; }
    public int FileIndex { get; set; } = 1;
    public long FileLength { get; set; }
    public long FileLines { get; set; }
    public long Written { get; set; }
    public bool Done { get; set; }
    public List<ExportFileEntry> Files { get; init; } = [];

    /// <summary>The type's files of deletion Bundles (absent from checkpoints recorded before deletions were listed: none yet).</summary>
    public DeletedFilesCheckpoint Deleted { get; init; } = new();
}
