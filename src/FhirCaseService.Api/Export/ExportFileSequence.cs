namespace FhirCaseService.Api.Export;

/// <summary>
/// One sequence of numbered NDJSON files of a job (a type's output, or its deletion Bundles), kept in step with its
/// checkpointed <see cref="IFileSequenceCheckpoint"/>. The current file is opened when this run first needs it, cut to the
/// length the last checkpoint recorded, so nothing written after that checkpoint survives a resume.
/// </summary>
internal sealed class ExportFileSequence(IExportFiles files, string jobId, IFileSequenceCheckpoint checkpoint, string manifestType,
    Func<int, string> fileName, int maxLinesPerFile) : IAsyncDisposable
{
    private IExportFileWriter? _writer;

    private string CurrentName => fileName(checkpoint.FileIndex);

    /// <summary>Appends one line; true when the current file is now full (close it with <see cref="CloseFileAsync"/>).</summary>
    public async ValueTask<bool> WriteLineAsync(string json, CancellationToken cancellationToken)
    {
        _writer ??= await files.OpenAsync(jobId, CurrentName, checkpoint.FileLength, cancellationToken);
        await _writer.WriteLineAsync(json, cancellationToken);
        checkpoint.FileLines++;
        return checkpoint.FileLines >= maxLinesPerFile;
    }

    /// <summary>Makes what was written durable and records the current file's length (before a checkpoint).</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_writer is not null)
            checkpoint.FileLength = await _writer.CommitAsync(cancellationToken);
    }

    /// <summary>Closes the full current file into the finished list; the next line starts the next file.</summary>
    public async Task CloseFileAsync(CancellationToken cancellationToken)
    {
        await CommitAsync(cancellationToken);
        await DisposeWriterAsync();
        checkpoint.Files.Add(new ExportFileEntry(manifestType, CurrentName, checkpoint.FileLines));
        checkpoint.FileIndex++;
        checkpoint.FileLength = 0;
        checkpoint.FileLines = 0;
    }

    /// <summary>
    /// Ends the sequence: the current file joins the finished list when it holds lines, and is removed when it holds
    /// none (a resumed run may have left a cut-off file with nothing recorded in it).
    /// </summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (checkpoint.FileLines == 0)
        {
            await DisposeWriterAsync();
            await files.DeleteFileAsync(jobId, CurrentName, cancellationToken);
            return;
        }
        // Opened even when this run wrote nothing to it, so whatever lies past the recorded length is cut off.
        _writer ??= await files.OpenAsync(jobId, CurrentName, checkpoint.FileLength, cancellationToken);
        await CommitAsync(cancellationToken);
        await DisposeWriterAsync();
        checkpoint.Files.Add(new ExportFileEntry(manifestType, CurrentName, checkpoint.FileLines));
    }

    private async Task DisposeWriterAsync()
    {
        if (_writer is null)
            return;
        var writer = _writer;
        _writer = null;
        await writer.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(DisposeWriterAsync());
}
