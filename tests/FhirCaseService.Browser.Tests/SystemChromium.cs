using System.Diagnostics;

namespace FhirCaseService.Browser.Tests;

/// <summary>
/// Debian's chromium, which Playwright drives through its ExecutablePath: Playwright's own browser download cannot work
/// on our machines. Found on PATH (or FHIRCASE_CHROMIUM); when missing, installed once per test run by
/// tools/ci/install-chromium.sh (needs root, as in CI); otherwise the failure says what to run.
/// </summary>
internal static class SystemChromium
{
    public const string Variable = "FHIRCASE_CHROMIUM";
    private const string InstallHint =
        "The browser tests need Debian's chromium. Run `tools/ci/install-chromium.sh` as root (apt-get install -y chromium), " +
        $"or set {Variable} to a Chromium executable.";

    private static readonly Lazy<string> Path = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string ExecutablePath => Path.Value;

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured)
            return File.Exists(configured) ? configured : throw new InvalidOperationException($"{Variable}={configured} does not exist. {InstallHint}");
        if (OnPath() is { } found)
            return found;
        Install();
        return OnPath() ?? throw new InvalidOperationException($"chromium is still not on PATH after the install. {InstallHint}");
    }

    private static string? OnPath() => (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => System.IO.Path.Combine(directory, "chromium"))
        .FirstOrDefault(File.Exists);

    private static void Install()
    {
        var script = RepositoryRoot.Combine("tools", "ci", "install-chromium.sh");
        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {script}. {InstallHint}");
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}): {errors.Result.Trim()} {InstallHint}");
    }
}
