using FhirCaseService.Api.Audit;
using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;
using FhirCaseService.Storage;
using FhirCaseService.Storage.Search;
using Hl7.Fhir.Model;
using Microsoft.AspNetCore.WebUtilities;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Executes transaction and batch Bundles. A transaction is one store transaction, all or nothing, processed in the
/// order the FHIR spec gives (DELETE, then POST, then PUT, then GET), with server ids chosen before any write so that
/// every reference to an entry's fullUrl can be rewritten. A batch runs each entry on its own and reports each outcome.
/// The response lists the entries in the order they were sent.
/// </summary>
public sealed class BundleProcessor(
    IResourceStore store, WriteValidation validation, ILogger<BundleProcessor> logger, IFhirAccess access, IHttpContextAccessor caller)
{
    /// <summary>For Bundles the server builds itself (case-series import, start-up examples): validate, then run as a transaction.</summary>
    public async Task<Bundle> ValidateAndRunTransactionAsync(Bundle bundle, string baseUrl, PreferReturn prefer, CancellationToken cancellationToken)
    {
        var verdict = await validation.ValidateBundleAsync(bundle, cancellationToken);
        verdict.ThrowIfInvalid();
        return await RunTransactionAsync(bundle, verdict, baseUrl, prefer, cancellationToken);
    }

    /// <param name="verdict">the validator's issues, all below error level: warnings go back in the entries' response.outcome.</param>
    public async Task<Bundle> RunTransactionAsync(Bundle bundle, BundleVerdict verdict, string baseUrl, PreferReturn prefer, CancellationToken cancellationToken)
    {
        AuditScope.Describe("transaction");
        var entries = BundleEntryRequest.ReadAll(bundle, baseUrl);
        RejectDuplicates(entries);
        // Every entry's scope is checked before anything is written: one refused entry refuses the whole transaction.
        foreach (var entry in entries)
            await AtEntry(entry, () => System.Threading.Tasks.Task.FromResult(DemandEntry(entry)));
        // GET entries run after the commit; a search they cannot run must fail the transaction before anything is written.
        foreach (var entry in entries.Where(e => e.Method == Bundle.HTTPVerb.GET && e.Target.Id is null))
            await AtEntry(entry, () => System.Threading.Tasks.Task.FromResult(SearchQuery.Parse(entry.Target.ResourceType, Criteria.Pairs(entry.Target.Criteria ?? ""))));
        var outcomes = new WriteOutcome?[entries.Count];

        await store.TransactionAsync(async (tx, ct) =>
        {
            foreach (var entry in Ordered(entries, Bundle.HTTPVerb.DELETE))
                outcomes[entry.Index] = await AtEntry(entry, () => DeleteAsync(tx, entry, ct));

            var identities = await ChooseIdentitiesAsync(tx, entries, outcomes, ct);
            foreach (var entry in entries.Where(e => e.Resource is not null && outcomes[e.Index] is null))
                await AtEntry(entry, async () =>
                {
                    await ReferenceRewriter.RewriteAsync(entry.Resource!, identities, (r, c) => ResolveConditionalAsync(tx, r, c), ct);
                    return true;
                });

            foreach (var entry in Ordered(entries, Bundle.HTTPVerb.POST).Where(e => outcomes[e.Index] is null))
                outcomes[entry.Index] = await AtEntry(entry, () => ResourceOperations.CreateAsync(tx, entry.Resource!, entry.Resource!.Id, null, ct));
            foreach (var entry in Ordered(entries, Bundle.HTTPVerb.PUT))
                outcomes[entry.Index] = await AtEntry(entry, () => ResourceOperations.UpdateAsync(tx, entry.Resource!, entry.IfMatch, ct));
            return true;
        }, cancellationToken);

        var response = new Bundle { Id = Guid.NewGuid().ToString("N"), Type = Bundle.BundleType.TransactionResponse };
        foreach (var entry in entries)
        {
            var responseEntry = entry.Method == Bundle.HTTPVerb.GET
                ? await ReadEntryAsync(entry, baseUrl, cancellationToken)
                : ResponseEntry(AuditScope.Touched(outcomes[entry.Index]!, entry.Method), baseUrl, prefer);
            AddWarnings(responseEntry, verdict, entry.Index);
            response.Entry.Add(responseEntry);
        }
        logger.LogInformation("Transaction of {EntryCount} entries committed: {Created} created, {Updated} updated or unchanged, {Deleted} deleted",
            entries.Count,
            outcomes.Count(o => o?.Status == StatusCodes.Status201Created),
            outcomes.Count(o => o?.Status == StatusCodes.Status200OK),
            outcomes.Count(o => o?.Status == StatusCodes.Status204NoContent));
        return response;
    }

    /// <summary>
    /// A batch: each entry is executed on its own (its own store transaction); one failing does not stop the others.
    /// Entries the validator rejected answer 422 with their issues; the rest run in the spec's order.
    /// </summary>
    public async Task<Bundle> RunBatchAsync(Bundle bundle, BundleVerdict verdict, string baseUrl, PreferReturn prefer, CancellationToken cancellationToken)
    {
        AuditScope.Describe("batch");
        var responses = new Bundle.EntryComponent?[bundle.Entry.Count];
        var runnable = new List<BundleEntryRequest>();
        for (var index = 0; index < bundle.Entry.Count; index++)
        {
            if (verdict.EntryHasErrors(index))
            {
                responses[index] = ErrorEntry(StatusCodes.Status422UnprocessableEntity,
                    verdict.ToOperationOutcome(i => BundleVerdict.EntryIndexOf(i) == index));
                continue;
            }
            try
            {
                runnable.Add(BundleEntryRequest.Read(index, bundle.Entry[index], baseUrl));
            }
            catch (FhirRequestException e) when (FhirExceptionTable.TryMap(e, out var status, out var outcome))
            {
                responses[index] = ErrorEntry(status, outcome);
            }
        }

        foreach (var method in ProcessingOrder)
        {
            foreach (var entry in runnable.Where(e => e.Method == method))
            {
                try
                {
                    DemandEntry(entry);
                    responses[entry.Index] = method == Bundle.HTTPVerb.GET
                        ? await ReadEntryAsync(entry, baseUrl, cancellationToken)
                        : ResponseEntry(AuditScope.Touched(await store.TransactionAsync((tx, ct) => RunBatchEntryAsync(tx, entry, ct), cancellationToken), method), baseUrl, prefer);
                    AddWarnings(responses[entry.Index]!, verdict, entry.Index);
                }
                catch (Exception e) when (FhirExceptionTable.TryMap(e, out var status, out var outcome))
                {
                    responses[entry.Index] = ErrorEntry(status, outcome);
                }
            }
        }
        logger.LogInformation("Batch of {EntryCount} entries: {Failed} failed", responses.Length,
            responses.Count(r => r?.Response?.Status is { } s && s[0] is '4' or '5'));
        return new Bundle { Id = Guid.NewGuid().ToString("N"), Type = Bundle.BundleType.BatchResponse, Entry = [.. responses.Select(r => r!)] };
    }

    private static readonly Bundle.HTTPVerb[] ProcessingOrder = [Bundle.HTTPVerb.DELETE, Bundle.HTTPVerb.POST, Bundle.HTTPVerb.PUT, Bundle.HTTPVerb.GET];

    private async Task<WriteOutcome> RunBatchEntryAsync(IResourceTransaction tx, BundleEntryRequest entry, CancellationToken ct)
    {
        if (entry.Method == Bundle.HTTPVerb.DELETE)
            return await DeleteAsync(tx, entry, ct);
        // In a batch, entries do not refer to each other; only conditional references are resolved.
        await ReferenceRewriter.RewriteAsync(entry.Resource!, new Dictionary<string, string>(), (r, c) => ResolveConditionalAsync(tx, r, c), ct);
        if (entry.Method == Bundle.HTTPVerb.POST)
            return await ResourceOperations.CreateAsync(tx, entry.Resource!, null, entry.IfNoneExist, ct);
        if (!entry.Target.IsConditional)
            return await ResourceOperations.UpdateAsync(tx, entry.Resource!, entry.IfMatch, ct);
        var outcome = await ResourceOperations.ConditionalUpdateAsync(tx, entry.Resource!, entry.Target.Criteria!, entry.IfMatch, null, ct);
        // A conditional update that matched nothing created the resource: that takes create too (thrown, it rolls back).
        if (outcome.Status == StatusCodes.Status201Created)
            DemandCreate(entry.Resource!.TypeName);
        return outcome;
    }

    /// <summary>
    /// The request's client must hold a scope for what the entry does: POST create, PUT update, DELETE delete, GET read
    /// (or search, without an id). Bundles the server runs on its own behalf (the start-up examples) have no request
    /// and are not checked.
    /// </summary>
    private bool DemandEntry(BundleEntryRequest entry)
    {
        if (caller.HttpContext is { } context)
            access.Demand(context, entry.Target.ResourceType, entry.Method switch
            {
                Bundle.HTTPVerb.POST => ScopePermissions.Create,
                Bundle.HTTPVerb.PUT => ScopePermissions.Update,
                Bundle.HTTPVerb.DELETE => ScopePermissions.Delete,
                _ => entry.Target.Id is null ? ScopePermissions.Search : ScopePermissions.Read,
            });
        return true;
    }

    private void DemandCreate(string resourceType)
    {
        if (caller.HttpContext is { } context)
            access.Demand(context, resourceType, ScopePermissions.Create);
    }

    private static Task<WriteOutcome> DeleteAsync(IResourceTransaction tx, BundleEntryRequest entry, CancellationToken ct) =>
        entry.Target.IsConditional
            ? ResourceOperations.ConditionalDeleteAsync(tx, entry.Target.ResourceType, entry.Target.Criteria!, ct)
            : ResourceOperations.DeleteAsync(tx, entry.Target.ResourceType, entry.Target.Id!, entry.IfMatch, ct);

    /// <summary>
    /// Decides the id of every resource the transaction writes, before any of them is written: a POST gets a new id,
    /// or the existing match of its ifNoneExist (then nothing is created); a PUT keeps its url's id, or the match of its
    /// criteria, or a new one. Returns every name an entry's fullUrl is known by, mapped to <c>Type/id</c>.
    /// </summary>
    private async Task<Dictionary<string, string>> ChooseIdentitiesAsync(
        IResourceTransaction tx, IReadOnlyList<BundleEntryRequest> entries, WriteOutcome?[] outcomes, CancellationToken ct)
    {
        var identities = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => e.Resource is not null && e.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT))
        {
            var resource = entry.Resource!;
            await AtEntry(entry, async () =>
            {
                if (entry.Method == Bundle.HTTPVerb.POST && entry.IfNoneExist is not null)
                {
                    var criteria = Criteria.Parse(resource.TypeName, entry.IfNoneExist, "request.ifNoneExist");
                    var existing = await Criteria.FindSingleAsync(tx, criteria, $"ifNoneExist {entry.IfNoneExist}", ct);
                    if (existing is not null)
                        outcomes[entry.Index] = new WriteOutcome(existing, StatusCodes.Status200OK, $"{existing.ResourceType}/{existing.Id} matches ifNoneExist; nothing was created.");
                    resource.Id = existing?.Id ?? tx.NewId();
                }
                else if (entry.Method == Bundle.HTTPVerb.POST)
                    resource.Id = tx.NewId();
                else if (entry.Target.IsConditional)
                {
                    var criteria = Criteria.Parse(resource.TypeName, entry.Target.Criteria!, "request.url");
                    var match = await Criteria.FindSingleAsync(tx, criteria, $"{entry.Target.ResourceType}?{entry.Target.Criteria}", ct);
                    if (match is not null && !string.IsNullOrEmpty(resource.Id) && resource.Id != match.Id)
                        throw FhirRequestException.BadRequest($"The criteria select {match.ResourceType}/{match.Id} but the resource's id is {resource.Id}.", "resource.id");
                    if (match is null)
                        DemandCreate(resource.TypeName);
                    resource.Id = match?.Id ?? (string.IsNullOrEmpty(resource.Id) ? tx.NewId() : resource.Id);
                }
                return true;
            });
            if (entry.FullUrl is not null)
                foreach (var alias in ReferenceRewriter.AliasesOf(entry.FullUrl))
                    identities[alias] = $"{resource.TypeName}/{resource.Id}";
        }
        return identities;
    }

    private static async Task<string> ResolveConditionalAsync(IResourceTransaction tx, string reference, CancellationToken ct)
    {
        var question = reference.IndexOf('?', StringComparison.Ordinal);
        var type = reference[..question];
        if (!ModelInfo.IsKnownResource(type))
            throw FhirRequestException.BadRequest($"The conditional reference {reference} does not start with a resource type.");
        var match = await Criteria.FindSingleAsync(tx, Criteria.Parse(type, reference[(question + 1)..]), $"The conditional reference {reference}", ct)
            ?? throw FhirRequestException.Of(StatusCodes.Status412PreconditionFailed, OperationOutcome.IssueType.NotFound,
                $"The conditional reference {reference} matches no {type}.");
        return $"{match.ResourceType}/{match.Id}";
    }

    /// <summary>A transaction may touch a resource once: two entries on the same id (or the same fullUrl) are a 400.</summary>
    private static void RejectDuplicates(IReadOnlyList<BundleEntryRequest> entries)
    {
        var targets = new Dictionary<string, int>(StringComparer.Ordinal);
        var fullUrls = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (entry.FullUrl is not null && entry.Method != Bundle.HTTPVerb.GET && !fullUrls.TryAdd(entry.FullUrl, entry.Index))
                throw new TransactionEntryException(entry.Index, entry.FullUrl,
                    FhirRequestException.BadRequest($"Bundle.entry[{fullUrls[entry.FullUrl]}] has the same fullUrl; each entry needs its own.", "fullUrl"));
            if (entry.Target.Id is not null && entry.Method is Bundle.HTTPVerb.PUT or Bundle.HTTPVerb.DELETE
                && !targets.TryAdd(entry.Target.Reference, entry.Index))
                throw new TransactionEntryException(entry.Index, entry.FullUrl,
                    FhirRequestException.BadRequest($"Bundle.entry[{targets[entry.Target.Reference]}] also changes {entry.Target.Reference}; a transaction may change a resource once.", "request.url"));
        }
    }

    private static IEnumerable<BundleEntryRequest> Ordered(IReadOnlyList<BundleEntryRequest> entries, Bundle.HTTPVerb method) =>
        entries.Where(e => e.Method == method);

    /// <summary>Runs one entry's step; an error it raises names the entry (index and fullUrl) and rolls the transaction back.</summary>
    private static async Task<T> AtEntry<T>(BundleEntryRequest entry, Func<Task<T>> step)
    {
        try
        {
            return await step();
        }
        catch (Exception e) when (e is FhirRequestException or StorageException)
        {
            throw new TransactionEntryException(entry.Index, entry.FullUrl, e);
        }
    }

    private static Bundle.EntryComponent ResponseEntry(WriteOutcome outcome, string baseUrl, PreferReturn prefer)
    {
        var entry = new Bundle.EntryComponent { Response = new Bundle.ResponseComponent { Status = outcome.StatusLine } };
        if (outcome.Stored is { } stored)
        {
            entry.Response.Etag = VersionHeaders.ETag(stored.VersionId);
            entry.Response.LastModified = stored.LastUpdated;
            if (!stored.IsDeleted)
            {
                entry.FullUrl = $"{baseUrl}/{stored.ResourceType}/{stored.Id}";
                entry.Response.Location = stored.VersionedReference;
                if (prefer == PreferReturn.Representation)
                    entry.Resource = stored.Resource;
            }
        }
        if (prefer == PreferReturn.OperationOutcome)
            entry.Response.Outcome = OperationOutcomes.Single(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, outcome.Message);
        return entry;
    }

    /// <summary>What the validator found below error level about an entry that was stored (e.g. an extensible binding missed).</summary>
    private static void AddWarnings(Bundle.EntryComponent responseEntry, BundleVerdict verdict, int index)
    {
        if (!verdict.Issues.Any(i => BundleVerdict.EntryIndexOf(i) == index && i.Severity == OperationOutcome.IssueSeverity.Warning))
            return;
        var warnings = verdict.ToOperationOutcome(i => BundleVerdict.EntryIndexOf(i) == index && i.Severity == OperationOutcome.IssueSeverity.Warning);
        responseEntry.Response ??= new Bundle.ResponseComponent();
        if (responseEntry.Response.Outcome is OperationOutcome existing)
            existing.Issue.AddRange(warnings.Issue);
        else
            responseEntry.Response.Outcome = warnings;
    }

    private static Bundle.EntryComponent ErrorEntry(int status, OperationOutcome outcome) => new()
    {
        Response = new Bundle.ResponseComponent { Status = $"{status} {ReasonPhrases.GetReasonPhrase(status)}", Outcome = outcome },
    };

    /// <summary>A GET entry: read, vread, or a search whose matches come back as a searchset Bundle (first page).</summary>
    private async Task<Bundle.EntryComponent> ReadEntryAsync(BundleEntryRequest entry, string baseUrl, CancellationToken ct)
    {
        var target = entry.Target;
        if (target.Id is null)
        {
            var query = SearchQuery.Parse(target.ResourceType, Criteria.Pairs(target.Criteria ?? ""));
            var page = await store.SearchAsync(query, ct);
            var searchset = new Bundle { Id = Guid.NewGuid().ToString("N"), Type = Bundle.BundleType.Searchset, Total = page.Total };
            foreach (var match in page.Matches.Where(m => m.Resource is not null))
                searchset.Entry.Add(new Bundle.EntryComponent
                {
                    FullUrl = $"{baseUrl}/{match.ResourceType}/{match.Id}",
                    Resource = match.Resource,
                    Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
                });
            return new Bundle.EntryComponent { Resource = searchset, Response = new Bundle.ResponseComponent { Status = "200 OK" } };
        }
        var read = target.VersionId is int version
            ? await store.VReadAsync(target.ResourceType, target.Id, version, ct)
            : await store.ReadAsync(target.ResourceType, target.Id, ct);
        return read.Status switch
        {
            ReadStatus.Found => new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{target.ResourceType}/{target.Id}",
                Resource = read.Version!.Resource,
                Response = new Bundle.ResponseComponent
                {
                    Status = "200 OK",
                    Etag = VersionHeaders.ETag(read.Version.VersionId),
                    LastModified = read.Version.LastUpdated,
                },
            },
            ReadStatus.Deleted => ErrorEntry(StatusCodes.Status410Gone, OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error,
                OperationOutcome.IssueType.Deleted, $"{target.Reference} was deleted.")),
            _ => ErrorEntry(StatusCodes.Status404NotFound, OperationOutcomes.Single(OperationOutcome.IssueSeverity.Error,
                OperationOutcome.IssueType.NotFound, $"{target.Reference} is not known to this server.")),
        };
    }
}
