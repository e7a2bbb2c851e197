namespace FhirCaseService.Api.Export;

/// <summary>
/// Where a sequence of numbered files stands at the last checkpoint: the finished <see cref="Files"/>, and the current
/// file <see cref="FileIndex"/> holding <see cref="FileLines"/> lines in its first <see cref="FileLength"/> units
/// (bytes for directory output, chunks for database output). Anything beyond that was written after the checkpoint
/// and is truncated on resume.
/// </summary>
public interface IFileSequenceCheckpoint
{
    int FileIndex { get; set; }
    long FileLength { get; set; }
    long FileLines { get; set; }
    List<ExportFileEntry> Files { get; }
}
