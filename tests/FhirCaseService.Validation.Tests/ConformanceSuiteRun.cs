using System.Diagnostics;

namespace FhirCaseService.Validation.Tests;

/// <summary>Runs the whole conformance suite once for all the tests of <see cref="ConformanceSuiteTests"/>.</summary>
public sealed class ConformanceSuiteRun : IAsyncLifetime
{
    public ConformanceSuite Suite { get; private set; } = null!;

    public IReadOnlyList<ConformanceStepResult> Results { get; private set; } = [];

    public TimeSpan Elapsed { get; private set; }

    public async Task InitializeAsync()
    {
        Suite = ConformanceSuite.Load();
        var stopwatch = Stopwatch.StartNew();
        Results = await new ConformanceRunner(Suite, context => new FhirValidator(context)).RunAllAsync().ConfigureAwait(false);
        Elapsed = stopwatch.Elapsed;
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
