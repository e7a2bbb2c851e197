namespace FhirCaseService.Api.Export;

/// <summary>A type's files of deletion Bundles (the manifest's <c>deleted</c> array), as of the last checkpoint.</summary>
public sealed class DeletedFilesCheckpoint : IFileSequenceCheckpoint
{
    public int FileIndex { get; set; } = 1;
    public long FileLength { get; set; }
    public long FileLines { get; set; }
    public List<ExportFileEntry> Files { get; init; } = [];
}
