namespace FhirCaseService.Cli.Tests;

/// <summary>
/// Golden files under tests/FhirCaseService.Cli.Tests/Golden, found from the repository root (the folder holding
/// FhirCaseService.sln above the test binaries) so the test project needs no copy step.
/// FHIRCASE_UPDATE_GOLDEN=1 rewrites them from the actual output (then review the diff).
/// </summary>
internal static class ValidateGoldenFiles
{
    public static void AssertMatches(string name, string actual)
    {
        var path = RepositoryRoot.Combine("tests", "FhirCaseService.Cli.Tests", "Golden", name);
        if (Environment.GetEnvironmentVariable("FHIRCASE_UPDATE_GOLDEN") == "1")
            File.WriteAllText(path, actual);
        Assert.True(File.Exists(path), $"golden file {path} is missing; run with FHIRCASE_UPDATE_GOLDEN=1 to create it");
        var expected = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.Equal(expected, actual);
    }
}
