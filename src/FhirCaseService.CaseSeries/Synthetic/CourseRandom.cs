namespace FhirCaseService.CaseSeries.Synthetic;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by its algorithm, unlike
/// <see cref="Random"/>, whose seeded sequence .NET does not promise to keep across versions. One per patient, seeded
/// from the cohort seed and the patient's index, so a patient's course depends on nothing else (and patients can be
/// generated in parallel with the same result).
/// </summary>
internal sealed class CourseRandom
{
    private ulong _state;

    public CourseRandom(int seed, int patientIndex)
    {
        _state = ((ulong)(uint)seed << 32) | (uint)patientIndex;
        Next();
    }

    private ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A whole number in [min, max], both included.</summary>
    public int Between(int min, int max) => min + (int)(Next() % (ulong)(max - min + 1));

    /// <summary>True with the given probability (0..1).</summary>
    public bool Chance(double probability) => (Next() >> 11) * (1.0 / (1UL << 53)) < probability;

    /// <summary>A decimal in [min, max] with the given number of decimals.</summary>
    public decimal Decimal(decimal min, decimal max, int decimals)
    {
        var scale = (int)Math.Pow(10, decimals);
        var steps = Between((int)(min * scale), (int)(max * scale));
        return decimal.Round((decimal)steps / scale, decimals);
    }

    public T Pick<T>(IReadOnlyList<T> items) => items[Between(0, items.Count - 1)];
}
