using System.Text.Json;
using System.Text.Json.Serialization;

namespace FhirCaseService.Api.Export;

/// <summary>A finished output file of one type (or the error file): what the manifest lists.</summary>
public sealed record ExportFileEntry(string Type, string Name, long Count);

/// <summary>
/// Where a sequence of numbered files stands at the last checkpoint: the finished <see cref="Files"/>, and the current
/// file <see cref="FileIndex"/> holding <see cref="FileLines"/> lines in its first <see cref="FileLength"/> units
/// (bytes for directory output, chunks for database output). Anything beyond that was written after the checkpoint
/// and is truncated on resume.
/// </summary>
public interface IFileSequenceProgress
{
    int FileIndex { get; set; }
    long FileLength { get; set; }
    long FileLines { get; set; }
    List<ExportFileEntry> Files { get; }
}

/// <summary>
/// One type's position, as of the last checkpoint: the rows up to <see cref="AfterKey"/> are durably written to its
/// output files (this sequence) and, for a _since export, the deletions among them to its <see cref="Deleted"/> files.
/// </summary>
public sealed class TypeProgress : IFileSequenceProgress
{
    public required string Type { get; init; }
    public long AfterKey { get; set; }
    public int FileIndex { get; set; } = 1;
    public long FileLength { get; set; }
    public long FileLines { get; set; }
    public long Written { get; set; }
    public bool Done { get; set; }
    public List<ExportFileEntry> Files { get; init; } = [];

    /// <summary>The type's files of deletion Bundles (absent from progress recorded before deletions were listed: none yet).</summary>
    public DeletedFilesProgress Deleted { get; init; } = new();
}

/// <summary>A type's files of deletion Bundles (the manifest's <c>deleted</c> array), as of the last checkpoint.</summary>
public sealed class DeletedFilesProgress : IFileSequenceProgress
{
    public int FileIndex { get; set; } = 1;
    public long FileLength { get; set; }
    public long FileLines { get; set; }
    public List<ExportFileEntry> Files { get; init; } = [];
}

/// <summary>The error file's position at the last checkpoint (same units as <see cref="TypeProgress.FileLength"/>).</summary>
public sealed class ErrorProgress
{
    public long FileLength { get; set; }
    public long FileLines { get; set; }
}

/// <summary>
/// A job's checkpointed state, stored as the job's progress JSON with every lease renewal; a replica that claims the
/// job after its owner died resumes from it. Types are written one after the other, in the request's order.
/// </summary>
public sealed class ExportProgress
{
    public const string ErrorFileName = "errors.ndjson";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public List<TypeProgress> Types { get; init; } = [];
    public ErrorProgress Errors { get; init; } = new();

    public static ExportProgress Start(IEnumerable<string> types) => new() { Types = [.. types.Select(t => new TypeProgress { Type = t })] };

    public static string FileName(string type, int index) => $"{type}-{index}.ndjson";

    /// <summary>A type's file of deletion Bundles; "-deleted-" cannot occur in an output file's name (types are letters only).</summary>
    public static string DeletedFileName(string type, int index) => $"{type}-deleted-{index}.ndjson";

    /// <summary>The type being written now, or null when every type is done.</summary>
    [JsonIgnore]
    public TypeProgress? Current => Types.FirstOrDefault(t => !t.Done);

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static ExportProgress? Deserialize(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<ExportProgress>(json, Json);

    /// <summary>Every file name this job may have written (finished ones, the current ones, the error file).</summary>
    public IEnumerable<string> KnownFileNames() =>
        Types.SelectMany(t => t.Files.Concat(t.Deleted.Files).Select(f => f.Name)
                .Append(FileName(t.Type, t.FileIndex)).Append(DeletedFileName(t.Type, t.Deleted.FileIndex)))
            .Append(ErrorFileName).Distinct();
}

/// <summary>A completed job's result (stored as its result JSON): the files the manifest lists.</summary>
public sealed record ExportResult(IReadOnlyList<ExportFileEntry> Output, IReadOnlyList<ExportFileEntry> Errors)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Files of deletion Bundles (_since exports only); empty in results stored before deletions were listed.</summary>
    public IReadOnlyList<ExportFileEntry> Deleted { get; init; } = [];

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static ExportResult Deserialize(string json) =>
        JsonSerializer.Deserialize<ExportResult>(json, Json) ?? throw new InvalidOperationException("An export result is empty.");

    public bool Contains(string fileName) => Output.Concat(Errors).Concat(Deleted).Any(f => f.Name == fileName);
}
