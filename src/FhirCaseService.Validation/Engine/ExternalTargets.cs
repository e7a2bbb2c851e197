using System.Collections.Concurrent;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// The resources one validation call fetched through <see cref="ValidationOptions.ReferenceResolver"/>: each reference
/// fetched once per call (a miss too), the same node handed out every time so that a target's verdict per profile is
/// cached like a Bundle entry's, and the (target, profile) checks under way, so that references that lead back to a
/// resource being checked (A links to B, B links to A) end instead of recursing: a check met again while it is under
/// way counts as met, and the outer check decides. The fetched resources are shared by a run and its parallel workers;
/// the checks under way are each worker's own (<see cref="ForWorker"/>): a worker's chain of checks is sequential, and a
/// check another worker happens to be running at the same moment is no circle (sharing them let one entry's reference
/// count as met because another entry was checking the same target).
/// </summary>
internal sealed class ExternalTargets
{
    private readonly ConcurrentDictionary<string, Task<PocoNode?>> _fetched;
    private readonly ConcurrentDictionary<(Base, string), byte> _underWay = new(ByObjectAndProfile.Instance);

    public ExternalTargets() : this(new ConcurrentDictionary<string, Task<PocoNode?>>(StringComparer.Ordinal)) { }

    private ExternalTargets(ConcurrentDictionary<string, Task<PocoNode?>> fetched) => _fetched = fetched;

    /// <summary>The same fetched resources, with no checks under way: for a parallel worker of the run.</summary>
    public ExternalTargets ForWorker() => new(_fetched);

    public Task<PocoNode?> FetchAsync(string reference, IReferenceResolver resolver) =>
        _fetched.GetOrAdd(reference, static async (key, r) =>
            await r.ResolveAsync(key).ConfigureAwait(false) is { } resource ? resource.ToPocoNode(ModelInfo.ModelInspector) : null, resolver);

    /// <summary>True when the check was not under way (the caller runs it, then calls <see cref="Leave"/>).</summary>
    public bool Enter(PocoNode target, string profile) => _underWay.TryAdd((target.Poco, profile), 0);

    public void Leave(PocoNode target, string profile) => _underWay.TryRemove((target.Poco, profile), out _);

    private sealed class ByObjectAndProfile : IEqualityComparer<(Base, string)>
    {
        public static readonly ByObjectAndProfile Instance = new();

        public bool Equals((Base, string) x, (Base, string) y) => ReferenceEquals(x.Item1, y.Item1) && string.Equals(x.Item2, y.Item2, StringComparison.Ordinal);

        public int GetHashCode((Base, string) key) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(key.Item1), StringComparer.Ordinal.GetHashCode(key.Item2));
    }
}
