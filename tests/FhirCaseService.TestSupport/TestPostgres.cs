using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FhirCaseService.TestSupport;

/// <summary>
/// The PostgreSQL server the tests use. <c>FHIRCASE_TEST_POSTGRES</c> names it when set (.ci/run sources
/// tools/ci/start-postgres.sh first); otherwise the first test that needs it runs that same idempotent script once
/// per test process (install from Debian packages if missing, start the cluster, create role and database), so
/// <c>dotnet test FhirCaseService.sln</c> passes on a fresh machine with nothing run before it. Test processes of
/// the solution run side by side: a file lock keeps them from running the script at the same time.
/// </summary>
public static partial class TestPostgres
{
    public const string Variable = "FHIRCASE_TEST_POSTGRES";

    private static readonly Lazy<string> Provisioned = new(Provision, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The admin connection string (a role that may create schemas and databases).</summary>
    public static string ConnectionString => Provisioned.Value;

    private static string Provision()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured)
            return configured;
        var script = RepositoryRoot.Combine("tools", "ci", "start-postgres.sh");
        var instructions = $"Run `source tools/ci/start-postgres.sh` (as root, on Debian) before `dotnet test`, or set {Variable} to a PostgreSQL connection string whose role may create schemas.";
        if (!File.Exists(script))
            throw new InvalidOperationException($"{Variable} is not set and {script} is missing. {instructions}");

        var start = new ProcessStartInfo("flock", [System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fhircase-start-postgres.lock"), "bash", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string output, errors;
        int exitCode;
        try
        {
            using var process = Process.Start(start) ?? throw new InvalidOperationException("flock did not start.");
            var errorRead = process.StandardError.ReadToEndAsync();
            output = process.StandardOutput.ReadToEnd();
            // An install from Debian packages takes a minute or two; a hung one must not hang the test run.
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new InvalidOperationException($"tools/ci/start-postgres.sh did not finish in 10 minutes. {instructions}");
            }
            errors = errorRead.Result;
            exitCode = process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{Variable} is not set and the provisioning script could not run ({e.Message}). {instructions}", e);
        }
        var line = ExportLine().Match(output);
        if (exitCode != 0 || !line.Success)
            throw new InvalidOperationException(
                $"{Variable} is not set and tools/ci/start-postgres.sh failed (exit {exitCode}): {Tail(errors)} {instructions}");
        var connectionString = line.Groups[1].Value;
        // Child processes the tests start (the CLI, the service) see the same server.
        Environment.SetEnvironmentVariable(Variable, connectionString);
        return connectionString;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text.Trim() : "..." + text[^2000..].Trim();

    [GeneratedRegex(@"^export FHIRCASE_TEST_POSTGRES='([^']*)'\s*$", RegexOptions.Multiline)]
    private static partial Regex ExportLine();
}
