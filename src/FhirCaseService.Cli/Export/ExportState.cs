using System.Text.Json;
using System.Text.Json.Serialization;

namespace FhirCaseService.Cli.Export;

/// <summary>A file fully downloaded: its name in the folder, where it came from, and its size (a shorter file is incomplete).</summary>
public sealed record DownloadedFile(string Name, string Url, long Size);

/// <summary>
/// What an export has done so far, kept in DIR/.fhircase-export-state.json after every step so that running the same
/// command again after an interruption resumes: polls the same job when it had not finished, else downloads only the
/// files not yet complete. The manifest is kept here as received, so the resumed run needs the job's status no more.
/// </summary>
public sealed record ExportState(
    int Version,
    ExportRequestKey Request,
    string? StatusUrl,
    DateTimeOffset? KickedOffAt,
    string? ManifestJson,
    IReadOnlyList<DownloadedFile> Files,
    bool Finished)
{
    public const string FileName = ".fhircase-export-state.json";
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static ExportState Start(ExportRequestKey request) => new(CurrentVersion, request, null, null, null, [], false);

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>The folder's state, or null when there is none; throws <see cref="InvalidDataException"/> when it cannot be read.</summary>
    public static async Task<ExportState?> LoadAsync(string directory, CancellationToken cancellationToken)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
            return null;
        try
        {
            await using var stream = File.OpenRead(path);
            var state = await JsonSerializer.DeserializeAsync<ExportState>(stream, JsonOptions, cancellationToken).ConfigureAwait(false);
            if (state is null || state.Version != CurrentVersion || state.Request is null || state.Files is null)
                throw new InvalidDataException($"{path} is not an export state this version of fhircase understands");
            return state;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} cannot be read ({e.Message})", e);
        }
    }

    /// <summary>Writes the state atomically (temporary file, then rename), so an interruption leaves the old state or the new, never half of one.</summary>
    public async Task SaveAsync(string directory, CancellationToken cancellationToken)
    {
        var path = PathIn(directory);
        var temporary = path + ".tmp";
        await using (var stream = File.Create(temporary))
            await JsonSerializer.SerializeAsync(stream, this, JsonOptions, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }
}
