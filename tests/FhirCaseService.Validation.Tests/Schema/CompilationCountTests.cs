using System.Collections.Concurrent;
using FhirCaseService.Conformance;
using FhirCaseService.TestSupport;
using FhirCaseService.Validation.FhirPath;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Terminology;
using FhirCaseService.Validation.Tests.Engine;

namespace FhirCaseService.Validation.Tests.Schema;

/// <summary>
/// "Compile once, validate many", counted: the schema repository and the FHIRPath cache announce every compilation, and
/// these tests count them while many threads validate at once.
/// </summary>
public sealed class CompilationCountTests
{
    private const int Threads = 6;

    /// <summary>Every example resource and the example Bundle: together they use all ten profiles and most extensions.</summary>
    private static readonly Lazy<IReadOnlyList<string>> Examples = new(() => new[] { "examples/resources", "examples/bundles" }
        .SelectMany(folder => Directory.EnumerateFiles(RepositoryRoot.Combine(folder.Split('/')), "*.json").Order(StringComparer.Ordinal))
        .Select(File.ReadAllText)
        .ToList());

    [Fact]
    public async Task Concurrent_validations_compile_each_canonical_exactly_once()
    {
        var context = ConformanceContext.CreateDefault();
        var schemas = new SchemaRepository(context.Snapshots);
        var compiled = new ConcurrentQueue<string>();
        schemas.SchemaCompiled += compiled.Enqueue;
        var validator = new FhirValidator(schemas, new LocalTerminologyChecker(context.Terminology));

        // All threads start together and walk the examples in the same order, so their first requests for each canonical race.
        var errors = await ValidateOnThreadsAsync(validator);

        Assert.Equal(0, errors);
        var repeated = compiled.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"{g.Key} x{g.Count()}").ToList();
        Assert.True(repeated.Count == 0, "Compiled more than once: " + string.Join(", ", repeated));
        Assert.Contains(EngineTestSupport.Profiles + "fhircase-mrd", compiled);
        Assert.Contains(EngineTestSupport.Profiles + "relapse-site", compiled);
        Assert.Contains(SchemaRepository.CoreUrl("Bundle"), compiled);
    }

    [Fact]
    public async Task A_second_validator_sharing_the_schema_cache_compiles_nothing()
    {
        var context = ConformanceContext.CreateDefault();
        var schemas = new SchemaRepository(context.Snapshots);
        var compiled = new ConcurrentQueue<string>();
        schemas.SchemaCompiled += compiled.Enqueue;
        var terminology = new LocalTerminologyChecker(context.Terminology);
        await ValidateOnThreadsAsync(new FhirValidator(schemas, terminology));
        var afterFirst = compiled.Count;

        var errors = await ValidateOnThreadsAsync(new FhirValidator(schemas, terminology));

        Assert.Equal(0, errors);
        Assert.True(afterFirst > 10, $"the first validator compiled only {afterFirst} schemas");
        Assert.Equal(afterFirst, compiled.Count);
    }

    [Fact]
    public async Task Concurrent_requests_compile_each_fhirpath_expression_exactly_once()
    {
        // Expressions no other test uses, so the process-wide cache has not compiled them yet.
        var run = Guid.NewGuid().ToString("N");
        var expressions = Enumerable.Range(0, 5).Select(i => $"status = 'final-{run}-{i}'").ToList();
        var wanted = expressions.ToHashSet(StringComparer.Ordinal);
        var compiled = new ConcurrentQueue<string>();
        void Count(string expression)
        {
            if (wanted.Contains(expression))
                compiled.Enqueue(expression);
        }
        FhirPathCache.ExpressionCompiled += Count;
        try
        {
            using var start = new Barrier(Threads);
            var results = await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return Enumerable.Range(0, 50).SelectMany(_ => expressions.Select(FhirPathCache.Get)).ToList();
            })));

            Assert.All(results.SelectMany(r => r), r => Assert.NotNull(r.Compiled));
        }
        finally
        {
            FhirPathCache.ExpressionCompiled -= Count;
        }
        Assert.Equal(expressions.Order(StringComparer.Ordinal), compiled.Order(StringComparer.Ordinal));
    }

    /// <returns>The number of errors over all validations (the examples are valid: 0 means every validation really ran).</returns>
    private static async Task<int> ValidateOnThreadsAsync(FhirValidator validator)
    {
        using var start = new Barrier(Threads);
        var counts = await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Run(async () =>
        {
            start.SignalAndWait();
            var errors = 0;
            foreach (var example in Examples.Value)
                errors += (await validator.ValidateAsync(example, ResourceFormat.Json)).ErrorCount;
            return errors;
        })));
        return counts.Sum();
    }
}
