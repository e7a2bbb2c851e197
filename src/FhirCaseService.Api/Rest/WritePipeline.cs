using System.Diagnostics;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Rest;

/// <summary>How the entries handed to <see cref="WritePipeline.RunAsync"/> relate to each other.</summary>
public enum EntryScope
{
    /// <summary>A create or update of one resource (<c>POST /Type</c>, <c>PUT /Type/id</c>, <c>PUT /Type?criteria</c>): references are stored as sent.</summary>
    Single,

    /// <summary>One entry of a batch: its conditional references are resolved; an error is that entry's alone.</summary>
    BatchEntry,

    /// <summary>
    /// A transaction: every fullUrl becomes the server id of its entry in every reference, conditional references are
    /// resolved, and an error names its entry and writes nothing.
    /// </summary>
    Transaction,
}

/// <summary>
/// The storage half of every write: entries whose bodies were parsed and validated once are turned into prepared
/// writes (ids chosen, references rewritten, serialized and indexed by <see cref="IResourceStore.Prepare"/>) before
/// the write lock is taken; inside <see cref="IResourceStore.TransactionAsync{T}"/> only SQL runs. What an entry
/// depends on in the database (ifNoneExist, conditional update and delete, conditional references) is looked up with a
/// normal read before the lock and asked again under it; when an answer changed (a concurrent writer got there in
/// between), the preparation starts over, at most <see cref="MaxAttempts"/> times. Entries run in the spec's order:
/// DELETE, then POST, then PUT (GET entries are the caller's).
/// </summary>
public sealed class WritePipeline(IResourceStore store, IFhirAccess access, IHttpContextAccessor caller, WriteMetrics metrics, ILogger<WritePipeline> logger,
    ReferentialIntegrity integrity)
{
    public const int MaxAttempts = 3;

    /// <summary>From this many resources on, a request's preparation runs on every core (below it the hand-off costs more than it saves).</summary>
    public const int ParallelPreparationFrom = 64;

    /// <summary>Runs the entries' writes as one store transaction; the outcomes follow the entries' order (null for GET entries).</summary>
    public async Task<WriteOutcome?[]> RunAsync(IReadOnlyList<BundleEntryRequest> entries, EntryScope scope, CancellationToken cancellationToken)
    {
        var started = metrics.StartOf(caller.HttpContext);
        var sent = entries.Select(e => SentState.Of(e, scope)).ToArray();
        var held = TimeSpan.Zero;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var preparing = Stopwatch.GetTimestamp();
            var plan = await PrepareAsync(entries, sent, scope, cancellationToken);
            metrics.RecordStage("prepare", Stopwatch.GetElapsedTime(preparing));
            var (outcomes, lockHeld) = await CommitAsync(plan, cancellationToken);
            held += lockHeld;
            if (outcomes is not null)
            {
                metrics.Record(started, held);
                return outcomes;
            }
            logger.LogInformation("A lookup of a write changed under a concurrent writer (attempt {Attempt} of {MaxAttempts}); preparing again", attempt, MaxAttempts);
        }
        throw FhirRequestException.Of(StatusCodes.Status409Conflict, OperationOutcome.IssueType.Conflict,
            $"The resources this request's conditional criteria select kept changing while it was prepared ({MaxAttempts} attempts); send it again.");
    }

    /// <summary>Everything that costs CPU, outside the lock: lookups, ids, reference rewriting, serialization, index values.</summary>
    private async Task<Plan> PrepareAsync(IReadOnlyList<BundleEntryRequest> entries, SentState[] sent, EntryScope scope, CancellationToken ct)
    {
        var deleteCount = entries.Count(e => e.Method == Bundle.HTTPVerb.DELETE);
        var plan = new Plan(entries, scope, new ConditionalLookups(store, deleteCount));
        // DELETE first: what the transaction deletes is no longer there for the lookups of its other entries.
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Method != Bundle.HTTPVerb.DELETE)
                continue;
            if (!entry.Target.IsConditional)
            {
                plan.Deletes.Add(new PlannedDelete(i, entry.Target.Id!, entry.IfMatch));
                deleted.Add(entry.Target.Reference);
                continue;
            }
            var criteria = entry.Target.Criteria!;
            var match = await At(entry, scope, () => plan.Lookups.SingleAsync(entry.Target.ResourceType, criteria, "request.url",
                $"{entry.Target.ResourceType}?{criteria.TrimStart('?')}", deleted, ct));
            if (match is null)
            {
                plan.Outcomes[i] = new WriteOutcome(null, StatusCodes.Status204NoContent, $"No {entry.Target.ResourceType} matches; nothing to delete.");
                continue;
            }
            plan.Deletes.Add(new PlannedDelete(i, match.Id, null));
            deleted.Add($"{match.ResourceType}/{match.Id}");
        }

        var identities = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Resource is null || entry.Method is not (Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT))
                continue;
            await At(entry, scope, () => ChooseIdAsync(entry, sent[i], i, plan, deleted, scope, ct));
            if (scope == EntryScope.Transaction && entry.FullUrl is not null)
                foreach (var alias in ReferenceRewriter.AliasesOf(entry.FullUrl))
                    identities[alias] = $"{entry.Resource.TypeName}/{entry.Resource.Id}";
        }

        var toPrepare = new List<int>();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (entry.Resource is null || plan.Outcomes[i] is not null || entry.Method is not (Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT))
                continue;
            if (scope != EntryScope.Single)
                await At(entry, scope, async () =>
                {
                    await ReferenceRewriter.RewriteAsync(sent[i].References, identities,
                        (reference, c) => ResolveConditionalAsync(plan.Lookups, reference, deleted, c), ct);
                    return true;
                });
            toPrepare.Add(i);
        }
        // References to this server must name stored resources (or this request's own), looked up before the lock.
        await integrity.CheckAsync(entries, toPrepare, scope, deleted, ct);
        var prepared = PrepareAll(entries, toPrepare, scope);
        for (var k = 0; k < toPrepare.Count; k++)
        {
            var entry = entries[toPrepare[k]];
            plan.Writes.Add(new PlannedWrite(toPrepare[k], entry.Method == Bundle.HTTPVerb.POST
                ? new PreparedWrite(prepared[k], PreparedWriteKind.Create)
                : new PreparedWrite(prepared[k], PreparedWriteKind.Update, entry.IfMatch, KeepUnchanged: true)));
        }
        // The spec's order: every POST before any PUT.
        plan.Writes.Sort((a, b) => Rank(entries[a.Position].Method).CompareTo(Rank(entries[b.Position].Method)) is var byMethod and not 0
            ? byMethod
            : a.Position.CompareTo(b.Position));
        return plan;
    }

    /// <summary>
    /// <see cref="IResourceStore.Prepare"/> (copy, index values, serialization, hash) of the entries at
    /// <paramref name="positions"/>, in their order. A large transaction spreads this CPU work over the cores (each
    /// entry's preparation reads only its own resource); an error names the first failing entry in the Bundle's order,
    /// as the sequential loop would.
    /// </summary>
    private PreparedResource[] PrepareAll(IReadOnlyList<BundleEntryRequest> entries, List<int> positions, EntryScope scope)
    {
        var prepared = new PreparedResource[positions.Count];
        if (positions.Count < ParallelPreparationFrom || Environment.ProcessorCount == 1)
        {
            for (var k = 0; k < positions.Count; k++)
            {
                var entry = entries[positions[k]];
                prepared[k] = At(entry, scope, () => store.Prepare(entry.Resource!));
            }
            return prepared;
        }
        var failures = new Exception?[positions.Count];
        Parallel.For(0, positions.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, k =>
        {
            var entry = entries[positions[k]];
            try
            {
                prepared[k] = At(entry, scope, () => store.Prepare(entry.Resource!));
            }
            catch (Exception e)
            {
                failures[k] = e;
            }
        });
        if (Array.Find(failures, f => f is not null) is { } first)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        return prepared;
    }

    private static int Rank(Bundle.HTTPVerb method) => method == Bundle.HTTPVerb.POST ? 0 : 1;

    /// <summary>
    /// The id an entry's resource is written under: a POST gets a new one, or the match of its ifNoneExist (then
    /// nothing is written); a PUT keeps its url's id, or the match of its criteria, or its own id, or a new one.
    /// </summary>
    private async Task<bool> ChooseIdAsync(BundleEntryRequest entry, SentState sent, int position, Plan plan, HashSet<string> deleted, EntryScope scope, CancellationToken ct)
    {
        var resource = entry.Resource!;
        var inBundle = scope == EntryScope.Transaction;
        if (entry.Method == Bundle.HTTPVerb.POST)
        {
            if (entry.IfNoneExist is { } ifNoneExist)
            {
                var name = inBundle ? "ifNoneExist" : "If-None-Exist";
                var existing = await plan.Lookups.SingleAsync(resource.TypeName, ifNoneExist, inBundle ? "request.ifNoneExist" : "If-None-Exist",
                    $"{name} {ifNoneExist}", deleted, ct);
                if (existing is not null)
                {
                    plan.Outcomes[position] = new WriteOutcome(existing, StatusCodes.Status200OK, $"{existing.ResourceType}/{existing.Id} matches {name}; nothing was created.");
                    resource.Id = existing.Id;
                    return true;
                }
            }
            // The server assigns the id of a created resource, whatever the client put there.
            resource.Id = store.NewId();
            return true;
        }
        if (!entry.Target.IsConditional)
        {
            resource.Id = entry.Target.Id;
            return true;
        }
        var criteria = entry.Target.Criteria!;
        var match = await plan.Lookups.SingleAsync(resource.TypeName, criteria, "request.url", $"{resource.TypeName}?{criteria.TrimStart('?')}", deleted, ct);
        if (match is not null && !string.IsNullOrEmpty(sent.Id) && sent.Id != match.Id)
            throw FhirRequestException.BadRequest($"The criteria select {match.ResourceType}/{match.Id} but the resource's id is {sent.Id}.",
                inBundle ? "resource.id" : $"{resource.TypeName}.id");
        // Matching nothing, the update creates the resource: that takes the create scope too.
        if (match is null && caller.HttpContext is { } context)
            access.Demand(context, resource.TypeName, ScopePermissions.Create);
        resource.Id = match?.Id ?? (string.IsNullOrEmpty(sent.Id) ? store.NewId() : sent.Id);
        return true;
    }

    private static async Task<string> ResolveConditionalAsync(ConditionalLookups lookups, string reference, HashSet<string> deleted, CancellationToken ct)
    {
        var question = reference.IndexOf('?', StringComparison.Ordinal);
        var type = reference[..question];
        if (!ModelInfo.IsKnownResource(type))
            throw FhirRequestException.BadRequest($"The conditional reference {reference} does not start with a resource type.");
        var match = await lookups.SingleAsync(type, reference[(question + 1)..], null, $"The conditional reference {reference}", deleted, ct)
            ?? throw FhirRequestException.Of(StatusCodes.Status412PreconditionFailed, OperationOutcome.IssueType.NotFound,
                $"The conditional reference {reference} matches no {type}.");
        return $"{match.ResourceType}/{match.Id}";
    }

    /// <summary>Under the write lock: the lookups asked again, then the deletions and the prepared writes, SQL only. Null outcomes: a lookup changed.</summary>
    private async Task<(WriteOutcome?[]? Outcomes, TimeSpan Held)> CommitAsync(Plan plan, CancellationToken cancellationToken)
    {
        long lockTaken = 0;
        var outcomes = await store.TransactionAsync(async (tx, ct) =>
            {
            lockTaken = Stopwatch.GetTimestamp();
            if (!await plan.Lookups.StillHoldAsync(tx, ct))
                return null;
            foreach (var delete in plan.Deletes)
            {
                var entry = plan.Entries[delete.Position];
                plan.Outcomes[delete.Position] = await At(entry, plan.Scope,
                    () => ResourceOperations.DeleteAsync(tx, entry.Target.ResourceType, delete.Id, delete.IfMatch, ct));
            }
            var results = await WriteAsync(tx, plan, ct);
            for (var i = 0; i < results.Count; i++)
                plan.Outcomes[plan.Writes[i].Position] = OutcomeOf(results[i], plan.Entries[plan.Writes[i].Position].Resource!);
            return plan.Outcomes;
        }, cancellationToken);
        // From the moment the work began under the lock until the commit returned.
        return (outcomes, Stopwatch.GetElapsedTime(lockTaken));
    }

    /// <summary>The batched write; a precondition that fails (If-Match, an id taken) names the entry it belongs to.</summary>
    private static async Task<IReadOnlyList<PreparedWriteResult>> WriteAsync(IResourceTransaction tx, Plan plan, CancellationToken ct)
    {
        if (plan.Writes.Count == 0)
            return [];
        try
        {
            return await tx.WriteAsync([.. plan.Writes.Select(w => w.Write)], ct);
        }
        catch (Exception e) when (plan.Scope == EntryScope.Transaction && TargetOf(e) is { } target && plan.PositionOf(target) is int position)
        {
            throw new TransactionEntryException(plan.Entries[position].Index, plan.Entries[position].FullUrl, e);
        }
    }

    private static string? TargetOf(Exception e) => e switch
    {
        VersionConflictException conflict => $"{conflict.ResourceType}/{conflict.Id}",
        ResourceAlreadyExistsException exists => $"{exists.ResourceType}/{exists.Id}",
        _ => null,
    };

    private static WriteOutcome OutcomeOf(PreparedWriteResult result, Resource written)
    {
        var stored = result.Stored.Resource is null ? result.Stored with { Resource = Stamped(written, result.Stored) } : result.Stored;
        if (result.Unchanged)
            return new WriteOutcome(stored, StatusCodes.Status200OK, $"{stored.VersionedReference} already holds this content; no new version.");
        return result.Created
            ? new WriteOutcome(stored, StatusCodes.Status201Created, $"Created {stored.VersionedReference}.")
            : new WriteOutcome(stored, StatusCodes.Status200OK, $"Updated {stored.VersionedReference}.");
    }

    /// <summary>The entry's resource as stored, for <c>Prefer: return=representation</c>, when the store answers without it.</summary>
    private static Resource Stamped(Resource written, StoredResource stored)
    {
        written.Meta ??= new Meta();
        written.Meta.VersionId = stored.VersionId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        written.Meta.LastUpdated = stored.LastUpdated;
        return written;
    }

    /// <summary>Runs one entry's step; in a transaction an error it raises names the entry (index and fullUrl) and writes nothing.</summary>
    internal static T At<T>(BundleEntryRequest entry, EntryScope scope, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (Exception e) when (scope == EntryScope.Transaction && e is FhirRequestException or StorageException)
        {
            throw new TransactionEntryException(entry.Index, entry.FullUrl, e);
        }
    }

    internal static async Task<T> At<T>(BundleEntryRequest entry, EntryScope scope, Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (scope == EntryScope.Transaction && e is FhirRequestException or StorageException)
        {
            throw new TransactionEntryException(entry.Index, entry.FullUrl, e);
        }
    }

    /// <summary>An entry's id and references as the client sent them: each attempt starts from these, not from the last attempt's rewriting.</summary>
    private sealed record SentState(string? Id, IReadOnlyList<ReferenceRewriter.SentReference> References)
    {
        public static SentState Of(BundleEntryRequest entry, EntryScope scope) => entry.Resource is not { } resource
            ? new SentState(null, [])
            : new SentState(string.IsNullOrEmpty(resource.Id) ? null : resource.Id, scope == EntryScope.Single ? [] : ReferenceRewriter.Collect(resource));
    }

    private sealed record PlannedDelete(int Position, string Id, int? IfMatch);

    private sealed record PlannedWrite(int Position, PreparedWrite Write);

    /// <summary>One attempt's preparation: decided outcomes, deletions and writes by entry position, and the lookups they rest on.</summary>
    private sealed class Plan(IReadOnlyList<BundleEntryRequest> entries, EntryScope scope, ConditionalLookups lookups)
    {
        private Dictionary<string, int>? _positions;

        public IReadOnlyList<BundleEntryRequest> Entries { get; } = entries;

        public EntryScope Scope { get; } = scope;

        public WriteOutcome?[] Outcomes { get; } = new WriteOutcome?[entries.Count];

        public List<PlannedDelete> Deletes { get; } = [];

        public List<PlannedWrite> Writes { get; } = [];

        public ConditionalLookups Lookups { get; } = lookups;

        /// <summary>The entry that writes <c>Type/id</c> (built on first use: only a failed write asks).</summary>
        public int? PositionOf(string target)
        {
            _positions ??= Writes.ToDictionary(w => w.Write.Resource.Reference, w => w.Position, StringComparer.Ordinal);
            return _positions.TryGetValue(target, out var position) ? position : null;
        }
    }
}
