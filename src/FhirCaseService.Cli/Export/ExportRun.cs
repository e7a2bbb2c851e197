using System.Text.Json;
using System.Text.Json.Nodes;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Export;

/// <summary>The output folder cannot be used as asked (another request's export, or files fhircase did not record). Exit 2.</summary>
public sealed class ExportFolderException(string message) : Exception(message);

/// <summary>A finished export: the manifest and the file each of its entries was saved as.</summary>
public sealed record ExportResult(ExportManifest Manifest, IReadOnlyList<PlannedFile> Files);

/// <summary>
/// One `fhircase export` run over its output folder: starts the job (or takes up the one the folder's state records),
/// waits for the manifest, downloads the files not yet complete (several at a time, each to a hidden temporary file
/// renamed into place when whole), then writes manifest.json. The state is saved after every step, so an interruption
/// at any point loses at most the file in flight.
/// </summary>
public sealed class ExportRun(BulkExportClient client, ExportProgress progress, string directory)
{
    public const string ManifestFileName = "manifest.json";

    /// <summary>Downloads in flight at once: enough to hide latency, few enough not to look like an attack.</summary>
    private const int ParallelDownloads = 4;

    private readonly SemaphoreSlim _stateGate = new(1, 1);
    private ExportState _state = null!;

    public async Task<ExportResult> RunAsync(ExportRequestKey request, bool restart, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        _state = await OpenStateAsync(request, restart, cancellationToken).ConfigureAwait(false);

        if (_state.StatusUrl is null)
        {
            var statusUrl = await client.KickOffAsync(request, cancellationToken).ConfigureAwait(false);
            await SaveAsync(_state with { StatusUrl = statusUrl.AbsoluteUri, KickedOffAt = DateTimeOffset.UtcNow }).ConfigureAwait(false);
            progress.Message($"export started; job status at {statusUrl}");
        }
        var status = new Uri(_state.StatusUrl!);

        if (_state.ManifestJson is null)
        {
            var manifestJson = await client.WaitForManifestAsync(status, cancellationToken).ConfigureAwait(false);
            ParseManifest(manifestJson, status);
            await SaveAsync(_state with { ManifestJson = manifestJson }).ConfigureAwait(false);
        }
        var manifest = ParseManifest(_state.ManifestJson!, status);
        var files = manifest.PlanFiles();

        await DownloadMissingAsync(files, manifest.RequiresAccessToken, cancellationToken).ConfigureAwait(false);
        await WriteManifestAsync(_state.ManifestJson!, cancellationToken).ConfigureAwait(false);
        if (!_state.Finished)
        {
            await client.ReleaseJobAsync(status, cancellationToken).ConfigureAwait(false);
            await SaveAsync(_state with { Finished = true }).ConfigureAwait(false);
        }
        return new ExportResult(manifest, files);
    }

    private async Task<ExportState> OpenStateAsync(ExportRequestKey request, bool restart, CancellationToken cancellationToken)
    {
        var existing = await ExportState.LoadAsync(directory, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !existing.Request.SameAs(request) && !restart)
            throw new ExportFolderException(
                $"{directory} holds an export of a different request ({existing.Request}); " +
                "choose another folder, or add --restart to discard that export and start this one");
        if (existing is not null && restart)
        {
            await DiscardAsync(existing, cancellationToken).ConfigureAwait(false);
            existing = null;
        }
        if (existing is not null)
        {
            if (!existing.Finished && existing.StatusUrl is not null)
                progress.Message(existing.ManifestJson is null ? $"resuming: polling the export job {existing.StatusUrl}" : "resuming: downloading the files still missing");
            return existing;
        }
        if (!restart && (File.Exists(Path.Combine(directory, ManifestFileName)) || Directory.EnumerateFiles(directory, "*.ndjson").Any()))
            throw new ExportFolderException(
                $"{directory} already holds export files (manifest.json or *.ndjson) that fhircase did not record; " +
                "choose an empty folder, or add --restart to write over them");
        var state = ExportState.Start(request);
        await state.SaveAsync(directory, CancellationToken.None).ConfigureAwait(false);
        return state;
    }

    /// <summary>--restart: cancels the recorded job if it was still on the server, and removes the files it recorded.</summary>
    private async Task DiscardAsync(ExportState old, CancellationToken cancellationToken)
    {
        if (old.StatusUrl is not null && !old.Finished)
            await client.ReleaseJobAsync(new Uri(old.StatusUrl), cancellationToken).ConfigureAwait(false);
        var names = old.Files.Select(f => f.Name).ToList();
        if (old.ManifestJson is not null && old.StatusUrl is not null)
        {
            try
            {
                names.AddRange(ExportManifest.Parse(old.ManifestJson, new Uri(old.StatusUrl)).PlanFiles().Select(f => f.Name));
            }
            catch (FormatException)
            {
                // The recorded files above are all we can name.
            }
        }
        foreach (var name in names.Append(ManifestFileName).Distinct(StringComparer.Ordinal))
            File.Delete(Path.Combine(directory, name));
        File.Delete(ExportState.PathIn(directory));
    }

    private static ExportManifest ParseManifest(string json, Uri statusUrl)
    {
        try
        {
            return ExportManifest.Parse(json, statusUrl);
        }
        catch (FormatException e)
        {
            throw new ServerErrorException($"the export job {statusUrl} completed with a manifest fhircase cannot use: {e.Message}", e);
        }
    }

    private async Task DownloadMissingAsync(IReadOnlyList<PlannedFile> files, bool authorize, CancellationToken cancellationToken)
    {
        bool IsComplete(PlannedFile file) =>
            _state.Files.FirstOrDefault(f => f.Name == file.Name) is { } done
            && done.Url == file.Source.Url.AbsoluteUri
            && new FileInfo(Path.Combine(directory, file.Name)) is { Exists: true } info
            && info.Length == done.Size;

        var missing = files.Where(f => !IsComplete(f)).ToList();
        progress.DownloadsStarting(files.Count, files.Count - missing.Count);
        if (missing.Count == 0)
            return;

        // Failures do not cancel the other downloads: every file that arrives whole is one the next run need not fetch.
        var failures = new List<string>();
        using var slots = new SemaphoreSlim(ParallelDownloads);
        await Task.WhenAll(missing.Select(async file =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await DownloadOneAsync(file, authorize, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ServerErrorException or HttpRequestException or IOException
                                      || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                lock (failures)
                    failures.Add(e is ServerErrorException ? e.Message : $"download of {file.Name} ({file.Source.Url}) failed: {e.Message}");
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);

        if (failures.Count > 0)
            throw new ServerErrorException(
                $"{failures.Count} of {missing.Count} files could not be downloaded; run the same command again to fetch only those.{Environment.NewLine}  " +
                string.Join(Environment.NewLine + "  ", failures.Order(StringComparer.Ordinal)));
    }

    private async Task DownloadOneAsync(PlannedFile file, bool authorize, CancellationToken cancellationToken)
    {
        var target = Path.Combine(directory, file.Name);
        // Hidden while incomplete: `fhircase validate DIR` skips it, and no one mistakes it for a whole file.
        var temporary = Path.Combine(directory, "." + file.Name + ".part");
        try
        {
            var size = await client.DownloadAsync(file.Source.Url, file.Name, temporary, authorize, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, target, overwrite: true);
            await _stateGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                _state = _state with { Files = [.. _state.Files.Where(f => f.Name != file.Name), new DownloadedFile(file.Name, file.Source.Url.AbsoluteUri, size)] };
                await _state.SaveAsync(directory, CancellationToken.None).ConfigureAwait(false);
            }
            finally
            {
                _stateGate.Release();
            }
            progress.FileDone(file.Name, size);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private async Task SaveAsync(ExportState state)
    {
        _state = state;
        // Never cancelled: a state written halfway would lose the job it records.
        await state.SaveAsync(directory, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The server's manifest as received, indented; written last, so its presence means every file is here.</summary>
    private async Task WriteManifestAsync(string manifestJson, CancellationToken cancellationToken)
    {
        var path = Path.Combine(directory, ManifestFileName);
        var indented = JsonNode.Parse(manifestJson)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        await File.WriteAllTextAsync(path + ".tmp", indented + "\n", cancellationToken).ConfigureAwait(false);
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
