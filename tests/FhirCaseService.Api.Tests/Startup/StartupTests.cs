using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.Startup;

/// <summary>A service started with <c>Startup:LoadExamples</c> on, over an empty database.</summary>
public sealed class SqliteExamplesHost() : ServiceHost(new SqliteTestDatabase(), new Dictionary<string, string?> { ["Startup:LoadExamples"] = "true" });

public sealed class PostgresExamplesHost() : ServiceHost(new PostgresTestDatabase(), new Dictionary<string, string?> { ["Startup:LoadExamples"] = "true" });

public abstract class StartupTests(ServiceHost host)
{
    private readonly RestTestClient _client = new(host);

    [Fact]
    public async Task Startup_loads_the_examples_case_series_into_an_empty_database()
    {
        var group = await _client.GetAsync("/Group/aertgeerts-2025-ino-bridge");
        var patient = await _client.GetAsync("/Patient/aertgeerts-2025-ino-bridge-p1");

        Assert.Equal(HttpStatusCode.OK, group.Status);
        Assert.Equal(4, group.As<Group>().Member.Count);
        Assert.Equal(HttpStatusCode.OK, patient.Status);
        Assert.Equal("W/\"1\"", patient.ETag);
    }
}

public sealed class StartupTestsOnSqlite(SqliteExamplesHost host) : StartupTests(host), IClassFixture<SqliteExamplesHost>;

public sealed class StartupTestsOnPostgres(PostgresExamplesHost host) : StartupTests(host), IClassFixture<PostgresExamplesHost>;

/// <summary>
/// The build output on its own: copied to a temporary directory with no repository around it and started as a real
/// process, it must create ./data, load the embedded examples and serve them.
/// </summary>
public sealed class StartupFromBuildOutputTests
{
    [Fact]
    public async Task Startup_from_a_copy_of_the_build_output_serves_the_embedded_examples()
    {
        var output = BuildOutputDirectory();
        var copy = Directory.CreateTempSubdirectory("fhircase-publish-");
        try
        {
            CopyDirectory(output, copy.FullName);
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet", ["FhirCaseService.Api.dll", "--urls", $"http://127.0.0.1:{port}"])
            {
                WorkingDirectory = copy.FullName,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            // This test is about start-up and log privacy, not tokens; authorization is on by default outside Development.
            start.Environment["Authorization__Enabled"] = "false";
            foreach (var inherited in start.Environment.Keys.Where(k => k.StartsWith("Storage__", StringComparison.Ordinal) || k.StartsWith("Startup__", StringComparison.Ordinal)).ToList())
                start.Environment.Remove(inherited);

            using var process = Process.Start(start)!;
            var log = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
                await WaitUntilReadyAsync(http, process, log);

                using var response = await http.GetAsync("/Patient/aertgeerts-2025-ino-bridge-p1");
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{log}");
                Assert.True(File.Exists(Path.Combine(copy.FullName, "data", "fhircase.db")), "the default SQLite file is under ./data");

                // A client's search and write carrying an identifier: the structured request log names routes, not values.
                var secret = "secret-pseudonym-" + Guid.NewGuid().ToString("N");
                using var search = await http.GetAsync($"/Patient?identifier={TestData.PseudonymSystem}|{secret}");
                using var create = await http.PostAsync("/Patient", new StringContent(
                    FhirCaseService.Conformance.Serialization.FhirSerialization.ToJson(TestData.NewPatient(secret)),
                    System.Text.Encoding.UTF8, "application/fhir+json"));
                Assert.Equal(HttpStatusCode.Created, create.StatusCode);
                await Task.Delay(500);
                string logText;
                lock (log) logText = log.ToString();
                Assert.Contains("\"Route\":\"/Patient/{id}\"", logText);
                Assert.DoesNotContain(secret, logText);
            }
            finally
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                copy.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A leftover temporary directory does not change the verdict.
            }
        }
    }

    internal static async Task WaitUntilReadyAsync(HttpClient http, Process process, System.Text.StringBuilder log)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, $"the service exited with code {(process.HasExited ? process.ExitCode : 0)}:\n{log}");
            try
            {
                using var ready = await http.GetAsync("/health/ready");
                if (ready.IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Started listening but busy loading; ask again.
            }
            await Task.Delay(250);
        }
        Assert.Fail($"the service did not become ready within 90 s:\n{log}");
    }

    /// <summary>The API project's own output for the configuration these tests were built in (Debug or Release).</summary>
    internal static string BuildOutputDirectory()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var directory = Path.Combine(TestData.RepositoryRoot, "src", "FhirCaseService.Api", "bin", configuration, framework);
        Assert.True(File.Exists(Path.Combine(directory, "FhirCaseService.Api.dll")), $"no build output at {directory}");
        return directory;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var directory in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, directory)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            // A data directory left by someone running the service from the output is not part of the build.
            if (relative.StartsWith("data" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                continue;
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
