using FhirCaseService.TestSupport;

namespace FhirCaseService.CaseSeries.Tests.Support;

internal static class RepositoryPaths
{
    public static string Root => RepositoryRoot.Path;

    public static string Examples(params string[] parts) => RepositoryRoot.Combine(["examples", .. parts]);
}
