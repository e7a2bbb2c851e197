using System.Text.Json;

namespace FhirCaseService.Cli.Export;

/// <summary>One file the manifest lists: its resource type, where to fetch it, and (for output files) how many resources it holds.</summary>
public sealed record ManifestFile(string Type, Uri Url, long? Count);

/// <summary>
/// The completed export's manifest (Bulk Data IG 2.0.0): transactionTime (the next incremental export's --since), the
/// kick-off request, whether the files need the bearer token, and the output, error and deleted files.
/// </summary>
public sealed record ExportManifest(
    string TransactionTime,
    string? Request,
    bool RequiresAccessToken,
    IReadOnlyList<ManifestFile> Output,
    IReadOnlyList<ManifestFile> Error,
    IReadOnlyList<ManifestFile> Deleted)
{
    /// <summary>Reads a manifest; throws <see cref="FormatException"/> naming what is missing or wrong.</summary>
    public static ExportManifest Parse(string json, Uri statusUrl)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"the manifest is not JSON ({e.Message})", e);
        }
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException("the manifest is not a JSON object");
        if (!root.TryGetProperty("transactionTime", out var transactionTime) || transactionTime.ValueKind != JsonValueKind.String)
            throw new FormatException("the manifest has no transactionTime");
        if (!root.TryGetProperty("output", out var output) || output.ValueKind != JsonValueKind.Array)
            throw new FormatException("the manifest has no output array");
        return new ExportManifest(
            transactionTime.GetString()!,
            root.TryGetProperty("request", out var request) && request.ValueKind == JsonValueKind.String ? request.GetString() : null,
            root.TryGetProperty("requiresAccessToken", out var requires) && requires.ValueKind == JsonValueKind.True,
            Files(output, "output", statusUrl),
            root.TryGetProperty("error", out var error) ? Files(error, "error", statusUrl) : [],
            root.TryGetProperty("deleted", out var deleted) ? Files(deleted, "deleted", statusUrl) : []);
    }

    private static List<ManifestFile> Files(JsonElement array, string name, Uri statusUrl)
    {
        if (array.ValueKind != JsonValueKind.Array)
            throw new FormatException($"the manifest's {name} is not an array");
        var files = new List<ManifestFile>();
        foreach (var (entry, index) in array.EnumerateArray().Select((e, i) => (e, i)))
        {
            var type = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var url = entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("url", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            // The IG requires absolute URLs; resolving against the status URL costs nothing and tolerates relative ones.
            if (string.IsNullOrEmpty(type) || url is null || !Uri.TryCreate(statusUrl, url, out var resolved) || resolved.Scheme is not ("http" or "https"))
                throw new FormatException($"the manifest's {name}[{index}] needs a type and an http(s) url");
            // The type becomes part of a file name: letters and digits only, so no manifest can name a path.
            if (!type.All(char.IsAsciiLetterOrDigit) || !char.IsAsciiLetterUpper(type[0]))
                throw new FormatException($"the manifest's {name}[{index}] type '{type}' is not a resource type");
            long? count = entry.TryGetProperty("count", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out var n) ? n : null;
            files.Add(new ManifestFile(type, resolved, count));
        }
        return files;
    }

    /// <summary>
    /// The local file of every manifest entry, in manifest order: output as &lt;Type&gt;.&lt;n&gt;.ndjson, errors as
    /// OperationOutcome.&lt;n&gt;.ndjson and deleted-resource Bundles as deleted.&lt;n&gt;.ndjson, n counting from 1 per
    /// name so error files never overwrite an OperationOutcome output file.
    /// </summary>
    public IReadOnlyList<PlannedFile> PlanFiles()
    {
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        string NameFor(string prefix)
        {
            counters[prefix] = counters.GetValueOrDefault(prefix) + 1;
            return $"{prefix}.{counters[prefix]}.ndjson";
        }
        return
        [
            .. Output.Select(f => new PlannedFile(NameFor(f.Type), f, ExportFileKind.Output)),
            .. Error.Select(f => new PlannedFile(NameFor("OperationOutcome"), f, ExportFileKind.Error)),
            .. Deleted.Select(f => new PlannedFile(NameFor("deleted"), f, ExportFileKind.Deleted)),
        ];
    }
}

public enum ExportFileKind { Output, Error, Deleted }

/// <summary>A manifest entry and the name it gets in the output folder.</summary>
public sealed record PlannedFile(string Name, ManifestFile Source, ExportFileKind Kind);
