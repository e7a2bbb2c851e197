using System.Buffers;
using System.Text;
using FhirCaseService.Storage.Export;

namespace FhirCaseService.Api.Export;

/// <summary>
/// One output file being written. Lines go to a buffer; <see cref="CommitAsync"/> makes everything written so far
/// durable and answers the file's length in the store's unit (bytes or chunks), which the checkpoint records.
/// </summary>
public interface IExportFileWriter : IAsyncDisposable
{
    ValueTask WriteLineAsync(string json, CancellationToken cancellationToken);

    Task<long> CommitAsync(CancellationToken cancellationToken);
}

/// <summary>Where export files live: a directory (shared volume) or the database. Knows nothing of jobs' states.</summary>
public interface IExportFiles
{
    /// <summary>Opens <paramref name="fileName"/> for appending after cutting it to <paramref name="length"/> (what the last checkpoint recorded).</summary>
    Task<IExportFileWriter> OpenAsync(string jobId, string fileName, long length, CancellationToken cancellationToken);

    Task DeleteFileAsync(string jobId, string fileName, CancellationToken cancellationToken);

    /// <summary>Copies the file to <paramref name="destination"/>; false (nothing written) when it does not exist.</summary>
    Task<bool> CopyToAsync(string jobId, string fileName, Stream destination, CancellationToken cancellationToken);

    /// <summary>Removes every file of the job (<paramref name="fileNames"/>: those it may have written, for stores that cannot list).</summary>
    Task DeleteJobAsync(string jobId, IEnumerable<string> fileNames, CancellationToken cancellationToken);
}

/// <summary>Files under <c>&lt;OutputDirectory&gt;/&lt;jobId&gt;/</c>; commits flush and fsync.</summary>
public sealed class DirectoryExportFiles(string root) : IExportFiles
{
    public string Root { get; } = root;

    public string JobDirectory(string jobId) => Path.Combine(Root, CheckedName(jobId));

    public string PathOf(string jobId, string fileName) => Path.Combine(JobDirectory(jobId), CheckedName(fileName));

    public Task<IExportFileWriter> OpenAsync(string jobId, string fileName, long length, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(JobDirectory(jobId));
        var stream = new FileStream(PathOf(jobId, fileName), new FileStreamOptions
        {
            Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.Asynchronous,
        });
        stream.SetLength(Math.Min(length, stream.Length));
        stream.Position = stream.Length;
        return Task.FromResult<IExportFileWriter>(new Writer(stream));
    }

    public Task DeleteFileAsync(string jobId, string fileName, CancellationToken cancellationToken)
    {
        // A job that never opened a file has no directory either: nothing to delete.
        var path = PathOf(jobId, fileName);
        if (File.Exists(path))
            File.Delete(path);
        return Task.CompletedTask;
    }

    public async Task<bool> CopyToAsync(string jobId, string fileName, Stream destination, CancellationToken cancellationToken)
    {
        FileStream source;
        try
        {
            source = new FileStream(PathOf(jobId, fileName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, useAsync: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        await using (source)
            await source.CopyToAsync(destination, cancellationToken);
        return true;
    }

    public Task DeleteJobAsync(string jobId, IEnumerable<string> fileNames, CancellationToken cancellationToken)
    {
        var directory = JobDirectory(jobId);
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Job ids and file names come from URLs: nothing that could leave the export directory.</summary>
    private static string CheckedName(string name) =>
        name.Length > 0 && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && name is not "." and not ".." && !name.Contains('/') && !name.Contains('\\')
            ? name
            : throw new ArgumentException($"'{name}' is not a plain file name.", nameof(name));

    private sealed class Writer(FileStream stream) : IExportFileWriter
    {
        private const int FlushBytes = 64 * 1024;
        private readonly ArrayBufferWriter<byte> _buffer = new(FlushBytes * 2);

        public async ValueTask WriteLineAsync(string json, CancellationToken cancellationToken)
        {
            NdjsonLine.Encode(json, _buffer);
            if (_buffer.WrittenCount >= FlushBytes)
                await DrainAsync(cancellationToken);
        }

        public async Task<long> CommitAsync(CancellationToken cancellationToken)
        {
            await DrainAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            return stream.Position;
        }

        private async Task DrainAsync(CancellationToken cancellationToken)
        {
            if (_buffer.WrittenCount == 0)
                return;
            await stream.WriteAsync(_buffer.WrittenMemory, cancellationToken);
            _buffer.ResetWrittenCount();
        }

        public ValueTask DisposeAsync() => stream.DisposeAsync();
    }
}

/// <summary>Files as ordered chunks in the database (<see cref="IExportJobStore"/>); a commit writes the pending chunk.</summary>
public sealed class DatabaseExportFiles(IExportJobStore store, int chunkBytes) : IExportFiles
{
    public async Task<IExportFileWriter> OpenAsync(string jobId, string fileName, long length, CancellationToken cancellationToken)
    {
        await store.TruncateFileAsync(jobId, fileName, checked((int)length), cancellationToken);
        return new Writer(store, jobId, fileName, (int)length, chunkBytes);
    }

    public Task DeleteFileAsync(string jobId, string fileName, CancellationToken cancellationToken) =>
        store.TruncateFileAsync(jobId, fileName, 0, cancellationToken);

    public async Task<bool> CopyToAsync(string jobId, string fileName, Stream destination, CancellationToken cancellationToken)
    {
        var any = false;
        await foreach (var chunk in store.ReadFileAsync(jobId, fileName, cancellationToken))
        {
            any = true;
            await destination.WriteAsync(chunk, cancellationToken);
        }
        return any;
    }

    public async Task DeleteJobAsync(string jobId, IEnumerable<string> fileNames, CancellationToken cancellationToken)
    {
        foreach (var fileName in fileNames)
            await store.TruncateFileAsync(jobId, fileName, 0, cancellationToken);
    }

    private sealed class Writer(IExportJobStore store, string jobId, string fileName, int chunkIndex, int chunkBytes) : IExportFileWriter
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(chunkBytes + 64 * 1024);
        private int _chunkIndex = chunkIndex;

        public async ValueTask WriteLineAsync(string json, CancellationToken cancellationToken)
        {
            NdjsonLine.Encode(json, _buffer);
            if (_buffer.WrittenCount >= chunkBytes)
                await WriteChunkAsync(cancellationToken);
        }

        public async Task<long> CommitAsync(CancellationToken cancellationToken)
        {
            await WriteChunkAsync(cancellationToken);
            return _chunkIndex;
        }

        private async Task WriteChunkAsync(CancellationToken cancellationToken)
        {
            if (_buffer.WrittenCount == 0)
                return;
            await store.WriteFileChunkAsync(jobId, fileName, _chunkIndex, _buffer.WrittenMemory.ToArray(), cancellationToken);
            _chunkIndex++;
            _buffer.ResetWrittenCount();
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>
/// Encodes one NDJSON line. Stored JSON may be indented: a raw CR or LF in JSON can only be whitespace between tokens
/// (inside strings they are escaped), so dropping them keeps the resource intact and makes it one line.
/// </summary>
internal static class NdjsonLine
{
    public static void Encode(string json, ArrayBufferWriter<byte> buffer)
    {
        var line = json.AsSpan().IndexOfAny('\r', '\n') >= 0
            ? json.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)
            : json;
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(line.Length) + 1);
        var count = Encoding.UTF8.GetBytes(line, span);
        span[count] = (byte)'\n';
        buffer.Advance(count + 1);
    }
}
