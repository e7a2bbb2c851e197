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
/// order the FHIR spec gives (DELETE, then POST, then PUT, then GET): <see cref="WritePipeline"/> chooses every server
/// id and rewrites every reference to an entry's fullUrl before the write lock is taken. A batch runs each entry on its
/// own and reports each outcome. The response lists the entries in the order they were sent.
/// </summary>
public sealed class BundleProcessor(
    IResourceStore store, WriteValidation validation, WritePipeline pipeline, ILogger<BundleProcessor> logger, IFhirAccess access, IHttpContextAccessor caller)
{
    /// <summary>For Bundles the server builds itself (case-series import, start-up examples): validate once, then run as a transaction.</summary>
    public async Task<Bundle> ValidateAndRunTransactionAsync(Bundle bundle, string baseUrl, PreferReturn prefer, CancellationToken cancellationToken)
    {
        var verdict = BundleVerdict.Of(await validation.ValidateAsync(bundle, cancellationToken), bundle);
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
            WritePipeline.At(entry, EntryScope.Transaction, () => DemandEntry(entry));
        // GET entries run after the commit; a search they cannot run must fail the transaction before anything is written.
        foreach (var entry in entries.Where(e => e.Method == Bundle.HTTPVerb.GET && e.Target.Id is null))
            WritePipeline.At(entry, EntryScope.Transaction, () => SearchQuery.Parse(entry.Target.ResourceType, Criteria.Pairs(entry.Target.Criteria ?? "")));

        var outcomes = await pipeline.RunAsync(entries, EntryScope.Transaction, cancellationToken);

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
                responses[index] = ErrorEntry(StatusCodes.Status422UnprocessableEntity, verdict.EntryOutcome(index));
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

        var byMethod = runnable.ToLookup(e => e.Method);
        foreach (var method in ProcessingOrder)
        {
            foreach (var entry in byMethod[method])
            {
                try
                {
                    DemandEntry(entry);
                    responses[entry.Index] = method == Bundle.HTTPVerb.GET
                        ? await ReadEntryAsync(entry, baseUrl, cancellationToken)
                        : ResponseEntry(AuditScope.Touched((await pipeline.RunAsync([entry], EntryScope.BatchEntry, cancellationToken))[0]!, method), baseUrl, prefer);
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
        if (verdict.EntryWarnings(index) is not { } warnings)
            return;
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
