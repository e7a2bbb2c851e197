using System.Collections;
using System.Text;
using FhirCaseService.CaseSeries.Mapping;
using FhirCaseService.Conformance.Serialization;

namespace FhirCaseService.CaseSeries.Synthetic;

/// <summary>How <c>fhircase generate</c> lays out a synthetic cohort.</summary>
public enum SyntheticOutputFormat
{
    /// <summary>One transaction Bundle per patient (<c>patient-000001.json</c>, ...).</summary>
    Bundles,

    /// <summary>One <c>&lt;Type&gt;.ndjson</c> file per resource type.</summary>
    Ndjson,
}

/// <param name="Patients">how many patients (1 or more).</param>
/// <param name="Seed">the same seed gives byte-identical output.</param>
public sealed record SyntheticCohortOptions(int Patients, int Seed = 1);

/// <summary>What was written: resources per type, and the files.</summary>
public sealed record SyntheticCohortSummary(IReadOnlyDictionary<string, int> ResourcesByType, IReadOnlyList<string> Files)
{
    public int ResourceCount => ResourcesByType.Values.Sum();
}

/// <summary>
/// Writes a synthetic cohort shaped like the case series (relapsed BCP-ALL after CAR-T, CD19/CD22 flow cytometry, InO
/// cycles, MRD follow-up, allo-HSCT, relapses, follow-up), every resource valid against our profiles and tagged as
/// synthetic, deterministic for a seed, streamed patient by patient (memory flat in the number of patients).
/// </summary>
/// <remarks>
/// Each patient is a case-series record made by <see cref="SyntheticCourse"/> and mapped by the converter's own mapper,
/// so the resources have exactly the profiles, codes and ids of a converted series (docs/synthetic-cohort.md).
/// Patients are made in parallel in batches and written in index order, so the bytes do not depend on scheduling.
/// </remarks>
public static class SyntheticCohortWriter
{
    /// <summary>The Group of the cohort in the <see cref="SyntheticOutputFormat.Bundles"/> layout; sorts after every patient file.</summary>
    public const string GroupBundleFileName = "patients-group.json";

    private const int BatchSize = 256;
    private const int FileBufferBytes = 1 << 16;

    /// <param name="progress">reports the number of patients written so far.</param>
    /// <exception cref="ArgumentException">fewer than one patient, a negative seed, an unknown format, or an output directory that is not empty.</exception>
    public static async Task<SyntheticCohortSummary> WriteAsync(SyntheticCohortOptions options, SyntheticOutputFormat format, string directory,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Patients < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.Patients, $"A synthetic cohort needs at least 1 patient; {options.Patients} was asked for.");
        if (options.Seed < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Seed, $"The seed must be 0 or more; {options.Seed} was given.");
        if (!Enum.IsDefined(format))
            throw new ArgumentOutOfRangeException(nameof(format), format, "The format must be bundles or ndjson.");
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        // A cohort is never mixed with other files: a leftover patient file of a larger earlier run would join it silently.
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new ArgumentException($"The output directory '{directory}' is not empty; write a cohort into a new or empty directory.", nameof(directory));
        Directory.CreateDirectory(directory);

        var cohort = new SyntheticCohort(options.Seed, options.Patients);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        return format == SyntheticOutputFormat.Bundles
            ? await WriteBundlesAsync(cohort, directory, counts, progress, cancellationToken)
            : await WriteNdjsonAsync(cohort, directory, counts, progress, cancellationToken);
    }

    private static async Task<SyntheticCohortSummary> WriteBundlesAsync(SyntheticCohort cohort, string directory, SortedDictionary<string, int> counts,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        await foreach (var (index, bundle) in RenderInOrderAsync(cohort, RenderBundle, cancellationToken))
        {
            await using (var file = Create(Path.Combine(directory, PatientFileName(cohort, index))))
                await file.WriteAsync(bundle.Json, cancellationToken);
            foreach (var type in bundle.Types)
                Count(counts, type);
            progress?.Report(index);
        }
        await using (var file = Create(Path.Combine(directory, GroupBundleFileName)))
            await CohortGroupJson.WriteTransactionAsync(cohort, file, cancellationToken);
        Count(counts, "Group");
        return new SyntheticCohortSummary(counts, new BundleFileList(cohort, directory));
    }

    private static async Task<SyntheticCohortSummary> WriteNdjsonAsync(SyntheticCohort cohort, string directory, SortedDictionary<string, int> counts,
        IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var files = new SortedDictionary<string, FileStream>(StringComparer.Ordinal);
        try
        {
            await foreach (var (index, lines) in RenderInOrderAsync(cohort, RenderNdjson, cancellationToken))
            {
                foreach (var (type, line) in lines)
                {
                    if (!files.TryGetValue(type, out var file))
                        files[type] = file = Create(Path.Combine(directory, NdjsonFileName(type)));
                    await file.WriteAsync(line, cancellationToken);
                    file.WriteByte((byte)'\n');
                    Count(counts, type);
                }
                progress?.Report(index);
            }
            var group = Create(Path.Combine(directory, NdjsonFileName("Group")));
            files["Group"] = group;
            await CohortGroupJson.WriteNdjsonLineAsync(cohort, group, cancellationToken);
            Count(counts, "Group");
        }
        finally
        {
            foreach (var file in files.Values)
                await file.DisposeAsync();
        }
        return new SyntheticCohortSummary(counts, files.Keys.Select(t => Path.Combine(directory, NdjsonFileName(t))).ToList());
    }

    /// <summary>
    /// Renders the patients in batches, each batch on all cores, and yields them in index order; only one batch is held,
    /// so memory does not grow with the cohort.
    /// </summary>
    private static async IAsyncEnumerable<(int Index, T Rendered)> RenderInOrderAsync<T>(SyntheticCohort cohort, Func<SyntheticCohort, int, T> render,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var batch = new T[Math.Min(BatchSize, cohort.Patients)];
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        for (var first = 1; first <= cohort.Patients; first += batch.Length)
        {
            var count = Math.Min(batch.Length, cohort.Patients - first + 1);
            var start = first;
            await Task.Run(() => Parallel.For(0, count, parallel, i => batch[i] = render(cohort, start + i)), cancellationToken);
            for (var i = 0; i < count; i++)
                yield return (start + i, batch[i]);
        }
    }

    private sealed record RenderedBundle(byte[] Json, IReadOnlyList<string> Types);

    private static RenderedBundle RenderBundle(SyntheticCohort cohort, int index)
    {
        var assembly = CaseSeriesMapper.MapPatient(cohort.Series, cohort.Patient(index), ReferenceStyle.FullUrl);
        var json = Encoding.UTF8.GetBytes(CaseSeriesJson.Serialize(assembly.ToTransaction()));
        return new RenderedBundle(json, assembly.Resources.Select(r => r.Key.ResourceType).ToList());
    }

    /// <summary>One compact JSON text per resource (the newline is added when it is written).</summary>
    private static List<(string Type, byte[] Json)> RenderNdjson(SyntheticCohort cohort, int index)
    {
        var assembly = CaseSeriesMapper.MapPatient(cohort.Series, cohort.Patient(index), ReferenceStyle.Literal);
        return assembly.Resources.Select(r => (r.Key.ResourceType, FhirSerialization.ToJsonBytes(r.Resource))).ToList();
    }

    private static FileStream Create(string path) =>
        new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileBufferBytes, useAsync: true);

    private static void Count(SortedDictionary<string, int> counts, string type) =>
        counts[type] = counts.GetValueOrDefault(type) + 1;

    private static string PatientFileName(SyntheticCohort cohort, int index) => $"patient-{cohort.PaddedIndex(index)}.json";

    private static string NdjsonFileName(string type) => type + ".ndjson";

    /// <summary>The files of the Bundles layout, named from the index when asked for, so the list costs nothing per patient.</summary>
    private sealed class BundleFileList(SyntheticCohort cohort, string directory) : IReadOnlyList<string>
    {
        public int Count => cohort.Patients + 1;

        public string this[int index] => (uint)index < (uint)Count
            ? Path.Combine(directory, index < cohort.Patients ? PatientFileName(cohort, index + 1) : GroupBundleFileName)
            : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<string> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
                yield return this[i];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
