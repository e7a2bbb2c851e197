using System.Text.Json;

namespace FhirCaseService.Api.Export;

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
