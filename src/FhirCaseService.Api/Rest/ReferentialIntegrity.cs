using FhirCaseService.Api.Http;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Rest;

/// <summary>
/// Referential integrity on write (<see cref="WriteValidationOptions.ReferentialIntegrity"/>, on by default as in HAPI
/// FHIR): every literal reference to a resource on this server (<c>Type/id</c>, <c>Type/id/_history/n</c>, or an
/// absolute url under the request's base) in a resource about to be written must name a current, not deleted resource
/// of the store, or a resource the same request writes. References to contained resources (<c>#x</c>), urn:uuid and
/// conditional references of a single write (stored as sent), absolute urls of other servers, and references to types
/// the service does not store (<see cref="StoredResourceTypes"/>: a Practitioner/x could never be satisfied here) are
/// not checked; in
/// Bundles fullUrls and conditional references have already been rewritten to <c>Type/id</c> when this runs.
/// <para>
/// The look-ups run before the write lock, one query per target type per request (<see cref="IResourceStore.ExistingIdsAsync"/>).
/// They are not asked again under the lock: a target deleted by another request between this check and the commit
/// leaves a dangling reference, exactly as a delete of an already referenced resource does (deletes do not check
/// what refers to them).
/// </para>
/// Bulk <c>$import</c> does not come here: a bulk load arrives in any order, so its references are stored as sent.
/// </summary>
public sealed class ReferentialIntegrity(IResourceStore store, IOptions<WriteValidationOptions> options, IHttpContextAccessor caller)
{
    /// <summary>
    /// Refuses (422, one not-found issue per dangling reference, at its element) when a resource at
    /// <paramref name="positions"/> of <paramref name="entries"/> refers to a resource that is not stored;
    /// <paramref name="deletedByRequest"/> (<c>Type/id</c>) are gone once the request commits.
    /// </summary>
    public async System.Threading.Tasks.Task CheckAsync(IReadOnlyList<BundleEntryRequest> entries, IReadOnlyList<int> positions, EntryScope scope,
        IReadOnlySet<string> deletedByRequest, CancellationToken cancellationToken)
    {
        if (!options.Value.ReferentialIntegrity || positions.Count == 0)
            return;
        var written = new HashSet<string>(positions.Select(p => $"{entries[p].Resource!.TypeName}/{entries[p].Resource!.Id}"), StringComparer.Ordinal);
        var ownBase = caller.HttpContext is { } context ? BaseUrl.Of(context.Request) + "/" : null;
        var targets = new List<Target>();
        foreach (var position in positions)
        {
            var entry = entries[position];
            var root = scope == EntryScope.Single ? entry.Resource!.TypeName : $"Bundle.entry[{entry.Index}].resource";
            foreach (var (path, value) in ReferencesOf(entry.Resource!, root))
                if (LocalTarget(value, ownBase) is { } target && !written.Contains(target.Key))
                    targets.Add(target with { Path = path, Value = value });
        }
        if (targets.Count == 0)
            return;

        var existing = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var byType in targets.Where(t => !deletedByRequest.Contains(t.Key)).GroupBy(t => t.Type, StringComparer.Ordinal))
            existing[byType.Key] = await store.ExistingIdsAsync(byType.Key, [.. byType.Select(t => t.Id).Distinct(StringComparer.Ordinal)], cancellationToken);
        var dangling = targets.Where(t => !existing.TryGetValue(t.Type, out var ids) || !ids.Contains(t.Id)).ToList();
        if (dangling.Count == 0)
            return;
        var outcome = new OperationOutcome();
        foreach (var target in dangling)
            outcome.Issue.Add(new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Error,
                Code = OperationOutcome.IssueType.NotFound,
                Diagnostics = deletedByRequest.Contains(target.Key)
                    ? $"{target.Path} refers to {target.Value}, which this request deletes."
                    : $"{target.Path} refers to {target.Value}, which is not a resource on this server (never stored, or deleted).",
                Expression = [target.Path],
            });
        throw new FhirRequestException(StatusCodes.Status422UnprocessableEntity, outcome);
    }

    /// <summary>The resource on this server a reference names (<c>Type/id</c>, optionally versioned, optionally under <paramref name="ownBase"/>), or null.</summary>
    internal static Target? LocalTarget(string value, string? ownBase)
    {
        if (value.StartsWith('#') || ReferenceRewriter.IsConditional(value))
            return null;
        var relative = value;
        if (Uri.TryCreate(value, UriKind.Absolute, out _))
        {
            if (ownBase is null || !value.StartsWith(ownBase, StringComparison.OrdinalIgnoreCase))
                return null;
            relative = value[ownBase.Length..];
        }
        var segments = relative.Split('/');
        var versioned = segments.Length == 4 && segments[2] == "_history" && segments[3].Length > 0;
        if ((segments.Length != 2 && !versioned) || !StoredResourceTypes.IsStored(segments[0]) || segments[1].Length == 0)
            return null;
        return new Target(segments[0], segments[1], "", value);
    }

    /// <summary>
    /// Every non-empty reference in the resource (contained resources and extensions included), with its FHIRPath
    /// location. None of the stored types nests resources other than contained ones; were Bundle or Parameters ever
    /// stored, their entries' references would resolve within them and would have to be skipped here.
    /// </summary>
    private static IEnumerable<(string Path, string Value)> ReferencesOf(Base node, string path)
    {
        foreach (var (name, value) in node.EnumerateElements())
        {
            switch (value)
            {
                case Base child:
                    foreach (var found in Visit(child, $"{path}.{name}"))
                        yield return found;
                    break;
                case IEnumerable<Base> children:
                    var index = 0;
                    foreach (var child in children)
                        foreach (var found in Visit(child, $"{path}.{name}[{index++}]"))
                            yield return found;
                    break;
            }
        }
    }

    private static IEnumerable<(string Path, string Value)> Visit(Base child, string path)
    {
        if (child is ResourceReference { Reference: { Length: > 0 } reference })
            yield return (path, reference);
        foreach (var nested in ReferencesOf(child, path))
            yield return nested;
    }

    internal sealed record Target(string Type, string Id, string Path, string Value)
    {
        public string Key => $"{Type}/{Id}";
    }
}
