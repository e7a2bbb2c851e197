using System.Buffers;

namespace FhirCaseService.Api.Import;

/// <summary>An accepted body as spooled: its file, its size in bytes and its number of lines.</summary>
public sealed record SpooledInput(string Path, long Bytes, long Lines, bool HasContent);

/// <summary>The body grew past Import:MaxBodyBytes while it was being spooled (the partial file is already removed).</summary>
public sealed class SpoolLimitExceededException(long maxBytes) : Exception($"The body is larger than {maxBytes} bytes.")
{
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>
/// Job input on disk: <c>&lt;SpoolDirectory&gt;/&lt;jobId&gt;.ndjson</c>. The body is copied through a small buffer
/// (never held whole), counted against the limit as it arrives, and flushed to the disk before the job is recorded,
/// so an accepted import survives a restart. Replicas must share the directory (like export's output directory).
/// </summary>
public sealed class ImportSpool(string directory)
{
    private const int BufferBytes = 64 * 1024;

    public string Directory { get; } = directory;

    public string PathOf(string jobId) => Path.Combine(Directory, jobId + ".ndjson");

    /// <summary>Copies <paramref name="body"/> to the job's file and syncs it to the disk.</summary>
    /// <exception cref="SpoolLimitExceededException">more than <paramref name="maxBytes"/> bytes arrived.</exception>
    public async Task<SpooledInput> WriteAsync(string jobId, Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(jobId);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
        long bytes = 0, newlines = 0;
        var last = (byte)'\n';
        var hasContent = false;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous))
            {
                int read;
                while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferBytes), cancellationToken)) > 0)
                {
                    bytes += read;
                    if (bytes > maxBytes)
                        throw new SpoolLimitExceededException(maxBytes);
                    var span = buffer.AsSpan(0, read);
                    newlines += span.Count((byte)'\n');
                    hasContent |= span.IndexOfAnyExcept(" \t\r\n"u8) >= 0;
                    last = span[^1];
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            return new SpooledInput(path, bytes, newlines + (last == (byte)'\n' ? 0 : 1), hasContent);
        }
        catch
        {
            Delete(path);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Removed again by the cleanup of expired jobs.
        }
    }

    /// <summary>Spool files with no job row (the process stopped between spooling and recording the job), older than <paramref name="age"/>.</summary>
    public IEnumerable<(string JobId, string Path)> FilesOlderThan(TimeSpan age)
    {
        if (!System.IO.Directory.Exists(Directory))
            yield break;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.ndjson"))
            if (File.GetLastWriteTimeUtc(path) < DateTime.UtcNow - age)
                yield return (Path.GetFileNameWithoutExtension(path), path);
    }
}

/// <summary>One input line: its 1-based number, its bytes (without the line break; null when longer than allowed) and where the next line starts.</summary>
public sealed record NdjsonLine(long Number, byte[]? Content, long EndByte)
{
    public bool IsBlank => Content is { } bytes && bytes.AsSpan().IndexOfAnyExcept(" \t\r"u8) < 0;
}

/// <summary>
/// Reads a spooled input line by line from a byte offset (where the last committed chunk ended). A line longer than
/// <paramref name="maxLineBytes"/> is skipped without being held in memory and reported with no content.
/// </summary>
public sealed class NdjsonLineReader(Stream stream, long startByte, long startLine, long maxLineBytes) : IDisposable
{
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private readonly MemoryStream _line = new();
    private int _position;
    private int _filled;
    private long _offset = -1;
    private long _number = startLine;

    public async Task<NdjsonLine?> ReadAsync(CancellationToken cancellationToken)
    {
        if (_offset < 0)
        {
            _offset = stream.Seek(startByte, SeekOrigin.Begin);
        }
        _line.SetLength(0);
        var tooLong = false;
        var any = false;
        while (true)
        {
            if (_position == _filled)
            {
                _filled = await stream.ReadAsync(_buffer, cancellationToken);
                _position = 0;
                if (_filled == 0)
                    return any ? Finish(tooLong) : null;
            }
            any = true;
            var span = _buffer.AsSpan(_position, _filled - _position);
            var newline = span.IndexOf((byte)'\n');
            var take = newline < 0 ? span.Length : newline;
            if (!tooLong && _line.Length + take > maxLineBytes)
            {
                tooLong = true;
                _line.SetLength(0);
            }
            if (!tooLong)
                _line.Write(span[..take]);
            _position += take;
            _offset += take;
            if (newline >= 0)
            {
                _position++;
                _offset++;
                return Finish(tooLong);
            }
        }
    }

    private NdjsonLine Finish(bool tooLong)
    {
        _number++;
        if (tooLong)
            return new NdjsonLine(_number, null, _offset);
        var content = _line.ToArray();
        if (content.Length > 0 && content[^1] == (byte)'\r')
            content = content[..^1];
        return new NdjsonLine(_number, content, _offset);
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _line.Dispose();
    }
}
