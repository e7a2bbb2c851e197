using FhirCaseService.Api.App;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Api.Tests.App;

/// <summary>
/// A large cohort's summary takes a minute to read; it is kept until the next committed write, and never served after
/// one. On its own service (shared hosts see other tests' writes at any moment).
/// </summary>
public sealed class CohortSummaryCacheTests
{
    [Fact]
    public async Task The_summary_is_read_once_per_committed_change_and_read_again_after_a_write()
    {
        var host = new ExamplesHost();
        await host.InitializeAsync();
        try
        {
            var store = host.Services.GetRequiredService<IResourceStore>();
            var cache = host.Services.GetRequiredService<CohortSummaryCache>();

            var first = await cache.GetAsync(store, null, CancellationToken.None);
            var again = await cache.GetAsync(store, null, CancellationToken.None);
            await store.CreateAsync(new Patient { Gender = AdministrativeGender.Female });
            var afterWrite = await cache.GetAsync(store, null, CancellationToken.None);
            var served = await host.Client.GetStringAsync("/$case-series-summary");

            Assert.Same(first, again);
            Assert.Equal(4, first.Summary.Patients);
            Assert.Equal(5, afterWrite.Summary.Patients);
            Assert.StartsWith("{\"patients\":5,", served);
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    private sealed class ExamplesHost() : ServiceHost(new SqliteTestDatabase(), new Dictionary<string, string?> { ["Startup:LoadExamples"] = "true" });
}
