namespace FhirCaseService.TestSupport;

/// <summary>The repository's root folder (the one holding FhirCaseService.sln), found upwards from the test's output folder.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    /// <summary>A path under the root: <c>RepositoryRoot.Combine("examples", "resources")</c>.</summary>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "FhirCaseService.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No FhirCaseService.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
