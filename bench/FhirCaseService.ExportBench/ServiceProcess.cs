using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FhirCaseService.ExportBench;

/// <summary>Resident set size now and at its peak over the process's life (/proc/[pid]/status VmRSS and VmHWM), in bytes.</summary>
public sealed record MemoryReading(long Rss, long PeakRss);

/// <summary>
/// The service's build output run as its own process (<c>dotnet FhirCaseService.Api.dll --urls ...</c>) on a free port,
/// so its memory is its own and can be read from /proc. Its console output goes to a log file; the last lines are kept
/// to explain a failed start.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Queue<string> _tail = new();

    private ServiceProcess(Process process, StreamWriter log, Uri baseAddress)
    {
        _process = process;
        _log = log;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public static async Task<ServiceProcess> StartAsync(string apiDll, IReadOnlyDictionary<string, string> environment, string logPath, TimeSpan startTimeout)
    {
        var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { apiDll, "--urls", baseAddress.ToString().TrimEnd('/') },
            WorkingDirectory = Path.GetDirectoryName(apiDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
            start.Environment[name] = value;

        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        var service = new ServiceProcess(process, log, baseAddress);
        process.OutputDataReceived += (_, line) => service.Record(line.Data);
        process.ErrorDataReceived += (_, line) => service.Record(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await service.WaitUntilReadyAsync(startTimeout);
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    public MemoryReading ReadMemory()
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                rss = Kilobytes(line) * 1024;
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                peak = Kilobytes(line) * 1024;
        }
        return new MemoryReading(rss, peak);

        static long Kilobytes(string line) =>
            long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>CPU time (user + system) the service process has used so far: all its threads, whatever the machine's load.</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>Bytes the service process has handed to write() so far (/proc/[pid]/io wchar: spool, SQLite WAL and database, logs).</summary>
    public long BytesWritten()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/io"))
            if (line.StartsWith("wchar:", StringComparison.Ordinal))
                return long.Parse(line["wchar:".Length..].Trim(), CultureInfo.InvariantCulture);
        return 0;
    }

    public string Tail()
    {
        lock (_tail)
            return string.Join(Environment.NewLine, _tail);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_tail)
            _log.Dispose();
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The service exited with code {_process.ExitCode} while starting:{Environment.NewLine}{Tail()}");
            try
            {
                using var response = await client.GetAsync("/health/ready");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but still starting.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"The service did not become ready within {timeout.TotalSeconds:F0} s:{Environment.NewLine}{Tail()}");
    }

    private void Record(string? line)
    {
        if (line is null)
            return;
        lock (_tail)
        {
            _log.WriteLine(line);
            _tail.Enqueue(line);
            if (_tail.Count > 40)
                _tail.Dequeue();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Samples a process's resident set size until stopped and keeps the largest value seen.</summary>
public sealed class RssSampler
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peak;

    public RssSampler(ServiceProcess service, TimeSpan interval) => _sampling = SampleAsync(service, interval);

    /// <summary>Stops sampling; the largest resident set size seen, in bytes.</summary>
    public async Task<long> StopAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
        return _peak;
    }

    private async Task SampleAsync(ServiceProcess service, TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
                _peak = Math.Max(_peak, service.ReadMemory().Rss);
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
