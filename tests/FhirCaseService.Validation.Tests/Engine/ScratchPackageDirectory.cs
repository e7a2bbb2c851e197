using System.Diagnostics;

namespace FhirCaseService.Validation.Tests.Engine;

/// <summary>
/// A directory for a package the tests write, under the test output folder rather than /tmp. It cannot be removed
/// when the validator is built (a directory package reads its files again whenever a profile is resolved, and the
/// shared validators live as long as the process), and the test host is ended without running exit handlers, so each
/// run works in its own folder and removes the folders of runs whose process is gone.
/// </summary>
internal static class ScratchPackageDirectory
{
    private const string RunPrefix = "run-";
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "scratch-packages");
    private static readonly Lazy<string> ThisRun = new(StartRun);

    public static DirectoryInfo Create(string prefix) =>
        Directory.CreateDirectory(Path.Combine(ThisRun.Value, prefix + Guid.NewGuid().ToString("N")[..8]));

    private static string StartRun()
    {
        Directory.CreateDirectory(Root);
        foreach (var earlier in Directory.EnumerateDirectories(Root, RunPrefix + "*"))
        {
            if (int.TryParse(Path.GetFileName(earlier)[RunPrefix.Length..], out var pid) && !IsRunning(pid))
            {
                try
                {
                    Directory.Delete(earlier, recursive: true);
                }
                catch (IOException)
                {
                    // Another run is removing it at the same time; what is left goes with the next run.
                }
            }
        }
        return Directory.CreateDirectory(Path.Combine(Root, RunPrefix + Environment.ProcessId)).FullName;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
