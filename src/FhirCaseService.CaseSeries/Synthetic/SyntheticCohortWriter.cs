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
public static class SyntheticCohortWriter
{
    /// <param name="progress">reports the number of patients written so far.</param>
    public static Task<SyntheticCohortSummary> WriteAsync(SyntheticCohortOptions options, SyntheticOutputFormat format, string directory,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException("Contract only: the synthetic cohort generator is being built (issue 11, item 6).");
}
