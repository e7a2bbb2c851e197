using System.Text.Json;
using System.Text.Json.Serialization;

namespace FhirCaseService.Api.Export;

/// <summary>
/// A job's checkpointed state, stored as the job's progress JSON (the store's column) with every lease renewal; a
/// replica that claims the job after its owner died resumes from it. Types are written one after the other, in the
/// request's order.
/// </summary>
public sealed class ExportCheckpoint
{
    public const string ErrorFileName = "errors.ndjson";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public List<TypeCheckpoint> Types { get; init; } = [];
    public ErrorFileCheckpoint Errors { get; init; } = new();

    public static ExportCheckpoint Start(IEnumerable<string> types) => new() { Types = [.. types.Select(t => new TypeCheckpoint { Type = t })] };

    public static string FileName(string type, int index) => $"{type}-{index}.ndjson";

    /// <summary>A type's file of deletion Bundles; "-deleted-" cannot occur in an output file's name (types are letters only).</summary>
    public static string DeletedFileName(string type, int index) => $"{type}-deleted-{index}.ndjson";

    /// <summary>The type being written now, or null when every type is done.</summary>
    [JsonIgnore]
    public TypeCheckpoint? Current => Types.FirstOrDefault(t => !t.Done);

    public string Serialize() => JsonSerializer.Serialize(this, Json);

    public static ExportCheckpoint? Deserialize(string? json) =>
        string.IsNullOrWhiteSpace(json) ? null : JsonSerializer.Deserialize<ExportCheckpoint>(json, Json);

    /// <summary>Every file name this job may have written (finished ones, the current ones, the error file).</summary>
    public IEnumerable<string> KnownFileNames() =>
        Types.SelectMany(t => t.Files.Concat(t.Deleted.Files).Select(f => f.Name)
                .Append(FileName(t.Type, t.FileIndex)).Append(DeletedFileName(t.Type, t.Deleted.FileIndex)))
            .Append(ErrorFileName).Distinct();
}
