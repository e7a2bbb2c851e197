using System.Collections.Concurrent;
using FhirCaseService.Conformance.Snapshots;

namespace FhirCaseService.Validation.Schema;

/// <summary>
/// A compiled schema, or why there is none (unknown canonical, no snapshot, a definition that cannot compile). With a
/// schema, <see cref="Problem"/> carries what snapshot generation objected to: the profile is then only partly applied.
/// </summary>
public sealed record SchemaLookup(StructureSchema? Schema, string? Problem);

/// <summary>
/// Compiled schemas by canonical (with |version when given). Each StructureDefinition is resolved and compiled exactly once per repository (snapshots come from the Conformance layer, which generates missing ones): the Lazy&lt;Task&gt; in the dictionary makes concurrent
/// first requests share one compilation. Thread-safe; meant to live as long as the definitions do.
/// </summary>
public sealed class SchemaRepository
{
    public const string CoreBase = "http://hl7.org/fhir/StructureDefinition/";

    private readonly SnapshotService _snapshots;
    private readonly ConcurrentDictionary<string, Lazy<Task<SchemaLookup>>> _cache = new(StringComparer.Ordinal);

    public SchemaRepository(SnapshotService snapshots)
    {
        ArgumentNullException.ThrowIfNull(snapshots);
        _snapshots = snapshots;
    }

    public static string CoreUrl(string type) => CoreBase + type;

    /// <summary>
    /// Raised with the canonical each time a StructureDefinition is compiled (on the compiling thread): once per canonical in
    /// the life of the repository, which warm-up diagnostics and the tests that count compilations observe.
    /// </summary>
    public event Action<string>? SchemaCompiled;

    /// <summary>The StructureDefinition behind a canonical, with its snapshot: for rules on definitions themselves (a profile against its base).</summary>
    public Task<SnapshotResult?> GetDefinitionAsync(string canonical) => _snapshots.GetAsync(canonical);

    // Asked for every typed node: a cached schema is read without making GetOrAdd's factory closure.
    public Task<SchemaLookup> GetAsync(string canonical) =>
        _cache.TryGetValue(canonical, out var cached)
            ? cached.Value
            : _cache.GetOrAdd(canonical, c => new Lazy<Task<SchemaLookup>>(() => LoadAsync(c))).Value;

    private async Task<SchemaLookup> LoadAsync(string canonical)
    {
        try
        {
            var snapshot = await _snapshots.GetAsync(canonical).ConfigureAwait(false);
            if (snapshot is null)
                return new SchemaLookup(null, $"No StructureDefinition with canonical URL {canonical} is known.");
            if (snapshot.Definition.Snapshot is null || snapshot.Definition.Snapshot.Element.Count == 0)
                return new SchemaLookup(null, $"StructureDefinition {canonical} has no snapshot and none could be generated.");
            var generationErrors = snapshot.Issues
                .Where(i => i.Severity is Hl7.Fhir.Model.OperationOutcome.IssueSeverity.Error or Hl7.Fhir.Model.OperationOutcome.IssueSeverity.Fatal)
                .Select(i => i.Details?.Text ?? i.Diagnostics).Where(t => !string.IsNullOrEmpty(t)).ToList();
            var problem = generationErrors.Count == 0 ? null : $"Snapshot generation for {canonical} reported: {string.Join("; ", generationErrors)}";
            var schema = SchemaCompiler.Compile(snapshot.Definition);
            SchemaCompiled?.Invoke(canonical);
            return new SchemaLookup(schema, problem);
        }
        // A broken definition (bad cardinality text, unresolvable base) must become a finding, not take the validator down.
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or OverflowException or NotSupportedException)
        {
            return new SchemaLookup(null, $"StructureDefinition {canonical} could not be compiled: {e.Message}");
        }
    }
}
