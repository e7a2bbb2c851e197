using System.Text.Json;
using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.CaseSeries.Synthetic;
using FhirCaseService.CaseSeries.Tests.Support;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace FhirCaseService.CaseSeries.Tests;

/// <summary>One 30-patient cohort in each layout, written once for the tests that only read it.</summary>
public sealed class SyntheticCohortFixture : IAsyncLifetime
{
    public const int Patients = 30;

    public TempDirectory Root { get; } = new();

    public string Ndjson => Path.Combine(Root.Path, "ndjson");

    public string Bundles => Path.Combine(Root.Path, "bundles");

    public SyntheticCohortSummary NdjsonSummary { get; private set; } = null!;

    public SyntheticCohortSummary BundlesSummary { get; private set; } = null!;

    public List<int> NdjsonProgress { get; } = [];

    public async System.Threading.Tasks.Task InitializeAsync()
    {
        NdjsonSummary = await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(Patients, Seed: 7), SyntheticOutputFormat.Ndjson, Ndjson,
            new ImmediateProgress(NdjsonProgress));
        BundlesSummary = await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(Patients, Seed: 7), SyntheticOutputFormat.Bundles, Bundles);
    }

    public System.Threading.Tasks.Task DisposeAsync()
    {
        Root.Dispose();
        return System.Threading.Tasks.Task.CompletedTask;
    }

    /// <summary>Every NDJSON line parsed strictly, with its file's type name.</summary>
    public IEnumerable<(string FileType, Resource Resource)> NdjsonResources() =>
        Directory.EnumerateFiles(Ndjson, "*.ndjson").Order(StringComparer.Ordinal).SelectMany(file => File.ReadLines(file)
            .Select(line => (Path.GetFileNameWithoutExtension(file), SyntheticCohortTests.ParseStrict(line))));

    public IEnumerable<(string File, Bundle Bundle)> TransactionBundles() =>
        Directory.EnumerateFiles(Bundles, "*.json").Order(StringComparer.Ordinal)
            .Select(file => (Path.GetFileName(file), (Bundle)SyntheticCohortTests.ParseStrict(File.ReadAllText(file))));
}

/// <summary>IProgress that records on the reporting thread (Progress&lt;T&gt; posts later, which a test cannot count on).</summary>
internal sealed class ImmediateProgress(List<int> reports) : IProgress<int>
{
    public void Report(int value) => reports.Add(value);
}

public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fhircase-synthetic-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}

public sealed class SyntheticCohortTests(SyntheticCohortFixture cohort) : IClassFixture<SyntheticCohortFixture>
{
    private static readonly Lazy<FhirValidator> Validator = new(() => new FhirValidator(ConformanceContext.CreateDefault()));

    internal static Resource ParseStrict(string json)
    {
        Assert.True(FhirSerialization.StrictJson.TryDeserializeResource(json, out var resource, out var issues),
            string.Join("\n", issues?.Select(i => i.Message) ?? []));
        return resource!;
    }

    private static async System.Threading.Tasks.Task<Dictionary<string, byte[]>> Files(string directory) =>
        (await System.Threading.Tasks.Task.WhenAll(Directory.EnumerateFiles(directory).Select(async f => (Path.GetFileName(f), await File.ReadAllBytesAsync(f)))))
        .ToDictionary(p => p.Item1, p => p.Item2);

    [Theory]
    [InlineData(SyntheticOutputFormat.Ndjson)]
    [InlineData(SyntheticOutputFormat.Bundles)]
    public async System.Threading.Tasks.Task The_same_seed_writes_byte_identical_files_and_another_seed_different_ones(SyntheticOutputFormat format)
    {
        using var temp = new TempDirectory();

        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(12, Seed: 3), format, temp.Sub("first"));
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(12, Seed: 3), format, temp.Sub("second"));
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(12, Seed: 4), format, temp.Sub("other"));

        var first = await Files(temp.Sub("first"));
        var second = await Files(temp.Sub("second"));
        var other = await Files(temp.Sub("other"));
        Assert.Equal(first.Keys.Order(), second.Keys.Order());
        Assert.All(first, file => Assert.True(file.Value.AsSpan().SequenceEqual(second[file.Key].AsSpan()), $"{file.Key} differs between two runs of seed 3"));
        Assert.Contains(first, file => !other.TryGetValue(file.Key, out var bytes) || !file.Value.AsSpan().SequenceEqual(bytes.AsSpan()));
    }

    [Fact]
    public async System.Threading.Tasks.Task Another_seed_makes_other_courses_not_only_other_ids()
    {
        using var temp = new TempDirectory();
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(5, Seed: 3), SyntheticOutputFormat.Ndjson, temp.Sub("a"));
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(5, Seed: 4), SyntheticOutputFormat.Ndjson, temp.Sub("b"));

        string Dates(string directory) => string.Join(",", File.ReadLines(Path.Combine(directory, "Condition.ndjson"))
            .Select(l => ((Condition)ParseStrict(l)).Onset.ToString()));

        Assert.NotEqual(Dates(temp.Sub("a")), Dates(temp.Sub("b")));
    }

    [Fact]
    public async System.Threading.Tasks.Task Every_ndjson_resource_validates_against_our_profiles_without_errors()
    {
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(cohort.Ndjson, "*.ndjson"))
            foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
            {
                var result = await Validator.Value.ValidateAsync(line, ResourceFormat.Json);
                problems.AddRange(result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
                    .Select(i => $"{Path.GetFileName(file)}:{number}: {i.Location.Expression}: {i.Message} [{i.Rule}]"));
            }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(30)));
    }

    [Fact]
    public async System.Threading.Tasks.Task Every_transaction_bundle_validates_against_our_profiles_without_errors()
    {
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(cohort.Bundles, "*.json").Order(StringComparer.Ordinal))
        {
            var result = await Validator.Value.ValidateAsync(await File.ReadAllTextAsync(file), ResourceFormat.Json);
            problems.AddRange(result.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
                .Select(i => $"{Path.GetFileName(file)}: {i.Location.Expression}: {i.Message} [{i.Rule}]"));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Take(30)));
    }

    [Fact]
    public void Every_patient_has_the_course_of_the_case_series_and_the_cohort_its_variety()
    {
        var resources = cohort.NdjsonResources().Select(r => r.Resource).ToList();
        var bySubject = resources.Where(r => r is not (Group or Provenance or Patient))
            .GroupBy(r => r.Select("subject.reference").Single().ToString()!)
            .ToDictionary(g => g.Key, g => g.ToList());
        bool Has(Base resource, string expression) => resource.Predicate(expression);
        const string Relapse = "code.coding.where(code = '97509-4').exists() and value.coding.where(code = '263855007').exists()";

        Assert.Equal(SyntheticCohortFixture.Patients, resources.OfType<Patient>().Count());
        Assert.Equal(SyntheticCohortFixture.Patients, bySubject.Count);
        Assert.All(bySubject.Values, course =>
        {
            Assert.Single(course, r => Has(r, "medication.coding.where(code = 'L01XL04').exists()"));
            Assert.Contains(course, r => Has(r, Relapse));
            Assert.Contains(course, r => Has(r, "medication.coding.where(code = '1942950').exists()"));
            Assert.Contains(course, r => Has(r, "code.coding.where(code = 'mrd').exists()"));
            Assert.Contains(course, r => Has(r, "code.coding.where(code = '51124-6').exists() and value.exists() and component.exists()"));
            Assert.Contains(course, r => Has(r, "code.coding.where(code = 'cd19-blasts').exists() and value.exists()"));
            Assert.Contains(course, r => Has(r, "code.coding.where(code = '103338009').exists() or value.coding.where(code = '103338009').exists()"));
        });
        var extramedullary = resources.Where(r => Has(r, Relapse)
            && !Has(r, "extension.where(url = 'https://fhircase.example.org/fhir/StructureDefinition/relapse-site').value.coding.where(code = 'marrow').exists()")).ToList();
        Assert.NotEmpty(extramedullary);
        Assert.Contains(resources, r => Has(r, "code.coding.where(code = '1217123003').exists()"));
        var transplants = resources.Count(r => Has(r, "code.coding.where(code = '234336002').exists()"));
        Assert.InRange(transplants, 1, SyntheticCohortFixture.Patients - 1);
        Assert.Contains(resources, r => Has(r, "code.coding.where(code = 'mrd').exists() and value.coding.where(code = 'ND').exists() and extension.where(url = 'https://fhircase.example.org/fhir/StructureDefinition/mrd-limit-of-detection').exists()"));
        Assert.Contains(resources, r => Has(r, "code.coding.where(code = 'mrd').exists() and value.ofType(Quantity).exists()"));
    }

    [Fact]
    public void Every_resource_is_tagged_synthetic()
    {
        var all = cohort.NdjsonResources().Select(r => r.Resource)
            .Concat(cohort.TransactionBundles().SelectMany(b => b.Bundle.Entry.Select(e => e.Resource)))
            .ToList();

        Assert.NotEmpty(all);
        Assert.All(all, r => Assert.Equal(("synthetic", FhirCaseCanonicals.CodeSystems.DataProvenance), (r.Meta.Tag.Single().Code, r.Meta.Tag.Single().System)));
    }

    [Fact]
    public void Ndjson_files_hold_one_resource_of_their_type_per_line_with_literal_references_that_resolve()
    {
        var resources = cohort.NdjsonResources().ToList();
        var ids = resources.Select(r => $"{r.Resource.TypeName}/{r.Resource.Id}").ToHashSet(StringComparer.Ordinal);

        Assert.All(resources, r => Assert.Equal(r.FileType, r.Resource.TypeName));
        Assert.Equal(resources.Count, ids.Count);
        var references = resources.SelectMany(r => r.Resource.Select("descendants()").OfType<ResourceReference>()).Select(r => r.Reference).Where(r => r is not null).ToList();
        Assert.All(references, reference => Assert.Contains(reference, ids));
        var group = Assert.IsType<Group>(Assert.Single(resources, r => r.FileType == "Group").Resource);
        Assert.Equal(SyntheticCohortFixture.Patients, group.Quantity);
        Assert.Equal(resources.Where(r => r.Resource is Patient).Select(r => $"Patient/{r.Resource.Id}"), group.Member.Select(m => m.Entity.Reference));
    }

    [Fact]
    public void Bundles_are_transactions_of_puts_whose_references_resolve_inside_them_in_patient_order()
    {
        var bundles = cohort.TransactionBundles().ToList();
        var patientFiles = bundles.Where(b => b.File != SyntheticCohortWriter.GroupBundleFileName).ToList();

        Assert.Equal(SyntheticCohortFixture.Patients, patientFiles.Count);
        Assert.Equal(SyntheticCohortWriter.GroupBundleFileName, bundles[^1].File);
        Assert.All(bundles, b =>
        {
            Assert.Equal(Bundle.BundleType.Transaction, b.Bundle.Type);
            Assert.All(b.Bundle.Entry, e =>
            {
                Assert.Equal(Bundle.HTTPVerb.PUT, e.Request.Method);
                Assert.Equal($"{e.Resource.TypeName}/{e.Resource.Id}", e.Request.Url);
                Assert.StartsWith("urn:uuid:", e.FullUrl, StringComparison.Ordinal);
            });
        });
        Assert.All(patientFiles, b =>
        {
            var fullUrls = b.Bundle.Entry.Select(e => e.FullUrl).ToHashSet(StringComparer.Ordinal);
            var references = b.Bundle.Entry.SelectMany(e => e.Resource.Select("descendants()").OfType<ResourceReference>()).Select(r => r.Reference).Where(r => r is not null).ToList();
            Assert.All(references, r => Assert.Contains(r, fullUrls));
            Assert.Single(b.Bundle.Entry, e => e.Resource is Patient);
        });
        var patientIds = patientFiles.Select(b => "Patient/" + b.Bundle.Entry.Select(e => e.Resource).OfType<Patient>().Single().Id).ToList();
        Assert.Equal(patientIds.Order(StringComparer.Ordinal), patientIds);
        var group = Assert.IsType<Group>(Assert.Single(bundles[^1].Bundle.Entry).Resource);
        Assert.Equal(patientIds, group.Member.Select(m => m.Entity.Reference));
    }

    [Fact]
    public void Summary_counts_what_was_written_and_progress_is_reported_per_patient()
    {
        var linesPerType = cohort.NdjsonResources().GroupBy(r => r.FileType).ToDictionary(g => g.Key, g => g.Count());
        var inBundles = cohort.TransactionBundles().SelectMany(b => b.Bundle.Entry).GroupBy(e => e.Resource.TypeName).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(linesPerType.OrderBy(p => p.Key), cohort.NdjsonSummary.ResourcesByType.OrderBy(p => p.Key));
        Assert.Equal(inBundles.OrderBy(p => p.Key), cohort.BundlesSummary.ResourcesByType.OrderBy(p => p.Key));
        Assert.Equal(Directory.EnumerateFiles(cohort.Ndjson).Order(StringComparer.Ordinal), cohort.NdjsonSummary.Files.Order(StringComparer.Ordinal));
        Assert.Equal(Directory.EnumerateFiles(cohort.Bundles).Order(StringComparer.Ordinal), cohort.BundlesSummary.Files);
        Assert.Equal(Enumerable.Range(1, SyntheticCohortFixture.Patients), cohort.NdjsonProgress);
    }

    [Fact]
    public async System.Threading.Tasks.Task A_cohort_of_one_patient_is_written()
    {
        using var temp = new TempDirectory();

        var summary = await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(1), SyntheticOutputFormat.Bundles, temp.Path);

        Assert.Equal(["patient-000001.json", SyntheticCohortWriter.GroupBundleFileName], summary.Files.Select(Path.GetFileName));
        Assert.Equal(1, summary.ResourcesByType["Patient"]);
        Assert.Equal(1, summary.ResourcesByType["Group"]);
    }

    [Theory]
    [InlineData(0, 1, "at least 1 patient")]
    [InlineData(-5, 1, "at least 1 patient")]
    [InlineData(3, -1, "seed must be 0 or more")]
    public async System.Threading.Tasks.Task Impossible_options_are_refused_with_a_message_and_nothing_is_written(int patients, int seed, string message)
    {
        using var temp = new TempDirectory();

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(patients, seed), SyntheticOutputFormat.Ndjson, temp.Path));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Path));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_directory_that_is_not_empty_is_refused()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.Path);
        await File.WriteAllTextAsync(temp.Sub("patient-000009.json"), "{}");

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(3), SyntheticOutputFormat.Bundles, temp.Path));

        Assert.Contains("not empty", error.Message, StringComparison.Ordinal);
        Assert.Single(Directory.EnumerateFiles(temp.Path));
    }

    [Fact]
    public async System.Threading.Tasks.Task A_patient_is_the_same_in_a_small_and_a_larger_cohort_of_the_seed()
    {
        using var temp = new TempDirectory();
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(2, Seed: 9), SyntheticOutputFormat.Bundles, temp.Sub("small"));
        await SyntheticCohortWriter.WriteAsync(new SyntheticCohortOptions(40, Seed: 9), SyntheticOutputFormat.Bundles, temp.Sub("large"));

        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(temp.Sub("small"), "patient-000002.json")),
            await File.ReadAllBytesAsync(Path.Combine(temp.Sub("large"), "patient-000002.json")));
    }
}
