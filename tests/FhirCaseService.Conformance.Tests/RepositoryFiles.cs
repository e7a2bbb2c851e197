namespace FhirCaseService.Conformance.Tests;

/// <summary>Finds the repository checkout the tests were built from (the folder holding FhirCaseService.sln).</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FhirCaseService.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no FhirCaseService.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootPath.Value;
}
