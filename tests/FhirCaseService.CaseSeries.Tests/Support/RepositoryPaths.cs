namespace FhirCaseService.CaseSeries.Tests.Support;

internal static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries that holds FhirCaseService.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string Examples(params string[] parts) => Path.Combine([Root, "examples", .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "FhirCaseService.sln")))
                return directory.FullName;
        throw new InvalidOperationException($"No FhirCaseService.sln above {AppContext.BaseDirectory}.");
    }
}
