using FhirCaseService.Api.Rest;
using FhirCaseService.CaseSeries;
using FhirCaseService.Storage;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Startup;

/// <summary>
/// Runs before the service takes requests: opens the store (creating or migrating its schema, so a bad connection
/// string stops the start instead of the first request), then, when the database is empty and
/// <see cref="StartupOptions.LoadExamples"/> is on, stores the examples' case series through the same validated
/// transaction path a client's Bundle takes.
/// </summary>
public sealed class StoreInitializer(
    IResourceStore store,
    BundleProcessor processor,
    IOptions<StartupOptions> options,
    ILogger<StoreInitializer> logger) : IHostedService
{
    /// <summary>Only used for the fullUrls of the (discarded) transaction responses.</summary>
    private const string InternalBase = "http://localhost";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var empty = (await store.HistoryAsync(new HistoryQuery(Count: 1), cancellationToken)).Entries.Count == 0;
        logger.LogInformation("Store ready ({State})", empty ? "empty" : "holds data");
        if (!empty || !options.Value.LoadExamples)
            return;
        foreach (var (name, json) in ExampleCaseSeries.All())
        {
            var conversion = CaseSeriesConverter.Convert(json);
            if (conversion.Bundle is null)
                throw new InvalidOperationException(
                    $"The embedded example {name} is not a valid case-series record: {string.Join("; ", conversion.Errors.Select(e => $"{e.Path}: {e.Message}"))}");
            var response = await processor.ValidateAndRunTransactionAsync(conversion.Bundle, InternalBase, PreferReturn.Minimal, cancellationToken);
            logger.LogInformation("Loaded example case series {Example}: {ResourceCount} resources", name, response.Entry.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
