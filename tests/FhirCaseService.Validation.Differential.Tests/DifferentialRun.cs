using System.Diagnostics;

namespace FhirCaseService.Validation.Differential.Tests;

/// <summary>Both engines' opinion of one instance.</summary>
public sealed record Comparison(Instance Instance, Opinion Ours, Opinion Firely)
{
    public bool AgreeRaw => Ours.IsValid == Firely.IsValid;

    /// <summary>Valid/invalid after setting aside the errors a known difference explains.</summary>
    public bool AgreeAfter(KnownDifferenceList known) =>
        (known.Unexplained(KnownDifference.Ours, Ours).Count == 0) == (known.Unexplained(KnownDifference.Firely, Firely).Count == 0);

    public string Describe(KnownDifferenceList known)
    {
        static string List(IReadOnlyList<ReportedError> errors) => errors.Count == 0 ? "valid" : string.Join("\n      ", errors);
        return $"{Instance.Name}\n    ours (unexplained errors): {List(known.Unexplained(KnownDifference.Ours, Ours))}"
            + $"\n    firely (unexplained errors): {List(known.Unexplained(KnownDifference.Firely, Firely))}";
    }
}

/// <summary>
/// Runs both engines over the whole corpus once per test run (Firely's validator takes seconds to warm up), so every test
/// reads the same results.
/// </summary>
public sealed class DifferentialRun : IAsyncLifetime
{
    public IReadOnlyList<Comparison> Examples { get; private set; } = [];
    public IReadOnlyList<Comparison> Reductions { get; private set; } = [];
    public IReadOnlyList<Comparison> Cohort { get; private set; } = [];
    public IEnumerable<Comparison> All => Examples.Concat(Reductions).Concat(Cohort);
    public KnownDifferenceList Known { get; } = KnownDifferenceList.Load();
    public TimeSpan OursTime { get; private set; }
    public TimeSpan FirelyTime { get; private set; }

    public async Task InitializeAsync()
    {
        var ours = new OurEngine();
        var firely = new FirelyEngine();
        Examples = await CompareAsync(DifferentialCorpus.Examples().ToList(), ours, firely);
        Reductions = await CompareAsync(DifferentialCorpus.Reductions().ToList(), ours, firely);
        Cohort = await CompareAsync(await DifferentialCorpus.CohortAsync(), ours, firely);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<IReadOnlyList<Comparison>> CompareAsync(IReadOnlyList<Instance> instances, OurEngine ours, FirelyEngine firely)
    {
        var comparisons = new List<Comparison>(instances.Count);
        foreach (var instance in instances)
        {
            var clock = Stopwatch.StartNew();
            var our = await ours.JudgeAsync(instance.Json);
            OursTime += clock.Elapsed;
            clock.Restart();
            var theirs = firely.Judge(instance.Json);
            FirelyTime += clock.Elapsed;
            comparisons.Add(new Comparison(instance, our, theirs));
        }
        return comparisons;
    }
}

[CollectionDefinition(Name)]
public sealed class DifferentialCollection : ICollectionFixture<DifferentialRun>
{
    public const string Name = "differential";
}
