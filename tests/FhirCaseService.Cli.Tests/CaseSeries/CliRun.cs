using FhirCaseService.Cli;

namespace FhirCaseService.Cli.Tests.CaseSeries;

/// <summary>Runs `fhircase` in-process with captured output, relative paths resolved against the repository root.</summary>
internal sealed record CliRun(int ExitCode, string Out, string Error)
{
    public static async Task<CliRun> Start(params string[] args) => await StartIn(RepositoryRoot, args);

    public static async Task<CliRun> StartIn(string workingDirectory, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exitCode = await CliApp.RunAsync(args, new CliContext(stdout, stderr, workingDirectory));
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The first folder above the test binaries that holds FhirCaseService.sln.</summary>
    public static string RepositoryRoot => FhirCaseService.TestSupport.RepositoryRoot.Path;

    public const string PaperRecord = "examples/case-series/aertgeerts-2025-ino-bridge.json";
    public const string PaperBundle = "examples/bundles/aertgeerts-2025-ino-bridge.json";
}

/// <summary>A fresh temporary folder per test, removed afterwards.</summary>
internal sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fhircase-cli-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
