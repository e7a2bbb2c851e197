using System.Text.Json;

namespace FhirCaseService.Cli.Import;

/// <summary>
/// A finished $import job's manifest, shaped like the export manifest: transactionTime, whether the error files need the
/// bearer token, the resources loaded per type (output entries carry a count, no file), and the error files (NDJSON
/// OperationOutcomes, one per refused line).
/// </summary>
public sealed record ImportManifest(string TransactionTime, bool RequiresAccessToken, IReadOnlyList<(string Type, long Count)> Output, IReadOnlyList<Uri> ErrorFiles)
{
    /// <summary>Reads a manifest; throws <see cref="FormatException"/> naming what is missing or wrong.</summary>
    public static ImportManifest Parse(string json, Uri statusUrl)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"the import manifest is not JSON ({e.Message})", e);
        }
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("transactionTime", out var time) || time.ValueKind != JsonValueKind.String)
            throw new FormatException("the import manifest has no transactionTime");
        if (!root.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Array)
            throw new FormatException("the import manifest has no output array");

        var counts = new List<(string, long)>();
        foreach (var (entry, index) in output.EnumerateArray().Select((e, i) => (e, i)))
        {
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !entry.TryGetProperty("count", out var count) || !count.TryGetInt64(out var n))
                throw new FormatException($"the import manifest's output[{index}] needs a type and a count");
            counts.Add((type.GetString()!, n));
        }
        var errors = new List<Uri>();
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Array)
        {
            foreach (var (entry, index) in error.EnumerateArray().Select((e, i) => (e, i)))
            {
                var url = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
                if (url is null || !Uri.TryCreate(statusUrl, url, out var resolved) || resolved.Scheme is not ("http" or "https"))
                    throw new FormatException($"the import manifest's error[{index}] needs an http(s) url");
                errors.Add(resolved);
            }
        }
        return new ImportManifest(time.GetString()!, root.TryGetProperty("requiresAccessToken", out var requires) && requires.ValueKind == JsonValueKind.True, counts, errors);
    }
}
