using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Hl7.Fhir.Specification.Snapshot;
using Hl7.Fhir.Specification.Source;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Conformance.Snapshots;

/// <summary>
/// Gives every StructureDefinition with a snapshot, generating it from the differential when the
/// definition has none. Each canonical is generated exactly once (concurrent callers share the work).
/// </summary>
public sealed class SnapshotService
{
    private readonly IAsyncResourceResolver _resolver;
    private readonly ConcurrentDictionary<string, Lazy<Task<SnapshotResult?>>> _results = new(StringComparer.Ordinal);

    public SnapshotService(IAsyncResourceResolver resolver)
    {
        _resolver = resolver;
    }

    /// <summary>
    /// Raised with the definition's canonical each time a snapshot is generated from a differential (on the generating
    /// thread). Generation is the expensive step the cache exists to do once; tests and warm-up diagnostics count it.
    /// </summary>
    public event Action<string>? SnapshotGenerated;

    /// <summary>The definition with a snapshot, or null when no source knows the canonical.</summary>
    public Task<SnapshotResult?> GetAsync(string canonical) =>
        _results.GetOrAdd(canonical, key => new Lazy<Task<SnapshotResult?>>(() => CreateAsync(key))).Value;

    /// <summary>Generates a snapshot for a definition that no source holds (e.g. one being authored); not cached.</summary>
    public async Task<SnapshotResult> GenerateAsync(StructureDefinition definition)
    {
        SnapshotGenerated?.Invoke(definition.Url ?? definition.Id ?? "");
        var copy = (StructureDefinition)definition.DeepCopy();
        var generator = new SnapshotGenerator(new CopyingResolver(_resolver), SnapshotGeneratorSettings.CreateDefault());
        try
        {
            await generator.UpdateAsync(copy).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A malformed profile must surface as an error result, not as an exception that the
            // cache would then rethrow to every later caller.
            return new SnapshotResult(copy, [GenerationFailed(definition, ex)]);
        }
        return new SnapshotResult(copy, generator.Outcome?.Issue.ToList() ?? []);
    }

    private async Task<SnapshotResult?> CreateAsync(string canonical)
    {
        var resolved = await _resolver.TryResolveByCanonicalUriAsync(canonical).ConfigureAwait(false);
        if (resolved.Value is not StructureDefinition definition)
        {
            return null;
        }
        return HasSnapshot(definition)
            ? new SnapshotResult(definition, [])
            : await GenerateAsync(definition).ConfigureAwait(false);
    }

    private static bool HasSnapshot(StructureDefinition definition) => definition.Snapshot?.Element.Count > 0;

    private static OperationOutcome.IssueComponent GenerationFailed(StructureDefinition definition, Exception ex) => new()
    {
        Severity = OperationOutcome.IssueSeverity.Fatal,
        Code = OperationOutcome.IssueType.Exception,
        Diagnostics = $"snapshot generation for {definition.Url ?? definition.Id ?? "a StructureDefinition"} failed: {ex.Message}",
    };

    /// <summary>
    /// The generator fills in snapshots of base profiles it resolves; handing it copies of those keeps
    /// the shared cached instances untouched.
    /// </summary>
    private sealed class CopyingResolver(IAsyncResourceResolver inner) : IAsyncResourceResolver
    {
        public async Task<ResolverResult> TryResolveByCanonicalUriAsync(string uri) =>
            CopyIfIncomplete(await inner.TryResolveByCanonicalUriAsync(uri).ConfigureAwait(false));

        public async Task<ResolverResult> TryResolveByUriAsync(string uri) =>
            CopyIfIncomplete(await inner.TryResolveByUriAsync(uri).ConfigureAwait(false));

        [Obsolete("Use TryResolveByCanonicalUriAsync; kept because the SDK interface requires it.")]
        public async Task<Resource?> ResolveByCanonicalUriAsync(string uri) => (await TryResolveByCanonicalUriAsync(uri).ConfigureAwait(false)).Value;

        [Obsolete("Use TryResolveByUriAsync; kept because the SDK interface requires it.")]
        public async Task<Resource?> ResolveByUriAsync(string uri) => (await TryResolveByUriAsync(uri).ConfigureAwait(false)).Value;

        private static ResolverResult CopyIfIncomplete(ResolverResult result) =>
            result.Value is StructureDefinition definition && !HasSnapshot(definition)
                ? new ResolverResult((StructureDefinition)definition.DeepCopy())
                : result;
    }
}
