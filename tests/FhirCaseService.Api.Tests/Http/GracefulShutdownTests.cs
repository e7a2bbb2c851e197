using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FhirCaseService.Api.Tests.Startup;
using Microsoft.Data.Sqlite;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Http;

/// <summary>
/// The service as a real process, stopped with SIGTERM while a request is in flight and audit events are queued: it
/// must stop within its configured shutdown time, answer the request in flight, take no new request, and write every
/// audit event it recorded.
/// </summary>
public sealed class GracefulShutdownTests
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Sigterm_ends_within_the_timeout_answers_the_request_in_flight_and_loses_no_audit_event()
    {
        var data = Directory.CreateTempSubdirectory("fhircase-shutdown-");
        var port = StartupFromBuildOutputTests.FreePort();
        var start = new ProcessStartInfo("dotnet", ["FhirCaseService.Api.dll", "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = StartupFromBuildOutputTests.BuildOutputDirectory(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["Storage__Provider"] = "Sqlite";
        start.Environment["Storage__DataDirectory"] = data.FullName;
        start.Environment["Startup__LoadExamples"] = "false";
        start.Environment["Http__ShutdownTimeout"] = ShutdownTimeout.ToString();
        // Events stay queued until the stop: the flush at shutdown is what is tested.
        start.Environment["Audit__FlushInterval"] = "00:01:00";
        start.Environment["Audit__BatchSize"] = "5000";

        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            await StartupFromBuildOutputTests.WaitUntilReadyAsync(http, process, log);
            const int searches = 300;
            for (var i = 0; i < searches; i++)
                (await http.GetAsync("/Patient?_count=1")).EnsureSuccessStatusCode();

            // A create whose body is still arriving when the stop begins.
            using var slow = new TcpClient();
            await slow.ConnectAsync(IPAddress.Loopback, port);
            var stream = slow.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /Patient HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nContent-Length: 1000000\r\n\r\n{{\"resourceType\":\"Patient\""));
            await Task.Delay(300);

            var stopping = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await kill!.WaitForExitAsync();
            await Task.Delay(300);
            var afterStop = await TryGetAsync(http, "/Patient?_count=1");

            var answer = await ReadAnswerAsync(stream);
            var exited = process.WaitForExit(ShutdownTimeout + TimeSpan.FromSeconds(5));
            stopping.Stop();

            string logText;
            lock (log) logText = log.ToString();
            Assert.True(exited, $"the service did not stop within {ShutdownTimeout} (+5 s):\n{logText}");
            Assert.True(stopping.Elapsed < ShutdownTimeout + TimeSpan.FromSeconds(3), $"stopping took {stopping.Elapsed}");
            Assert.True(afterStop is null or HttpStatusCode.ServiceUnavailable, $"a request after SIGTERM got {afterStop}");
            Assert.True(answer.StartsWith("HTTP/1.1 503", StringComparison.Ordinal), $"the request in flight got {answer}\n{logText}");
            Assert.DoesNotContain("audit events are lost", logText);

            SqliteConnection.ClearAllPools();
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(data.FullName, "fhircase.db")}");
            await connection.OpenAsync();
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM audit_event WHERE subtype LIKE '%search%'";
            var recorded = Convert.ToInt32(await count.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(recorded >= searches, $"{recorded} of {searches} searches are in the audit trail\n{logText}");
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            SqliteConnection.ClearAllPools();
            try
            {
                data.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory does not change the verdict.
            }
        }
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient http, string path)
    {
        try
        {
            using var fresh = new HttpClient { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var response = await fresh.GetAsync(path);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Not listening any more: refused, as it should be.
            return null;
        }
    }

    private static async Task<string> ReadAnswerAsync(NetworkStream stream)
    {
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(ShutdownTimeout + TimeSpan.FromSeconds(5));
        try
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            return $"(no answer: {e.GetType().Name})";
        }
    }
}
