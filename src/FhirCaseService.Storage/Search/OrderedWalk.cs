using FhirCaseService.Storage.Indexing;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// How a page can be read by walking an index in the query's sort order and stopping after the page, instead of
/// computing every match's sort key and sorting them all: no _sort (id order) or one key on _id, _lastUpdated, a date,
/// a string or a token parameter declared sortable (<see cref="SortableTokens"/>; only those have sort-key rows).
/// Several keys, numbers, quantities and undeclared token parameters keep the general plan, which computes the key
/// from the index rows.
/// </summary>
internal sealed record OrderedWalk(OrderedWalk.Kind By, SortKey? Key)
{
    internal enum Kind
    {
        /// <summary>resource_version's (type, id) index.</summary>
        Id,

        /// <summary>resource_version's (type, lastUpdated, id) index.</summary>
        LastUpdated,

        /// <summary>A sort-key table's index: the versions with a value, then those without one (last, by id).</summary>
        SortKey,
    }

    public bool Descending => Key?.Descending ?? false;

    public static OrderedWalk? For(IReadOnlyList<SortKey> sort, SortableTokens sortable) => sort switch
    {
        [] => new OrderedWalk(Kind.Id, null),
        [{ Parameter.Name: "_id" } key] => new OrderedWalk(Kind.Id, key),
        [{ Parameter.Name: "_lastUpdated" } key] => new OrderedWalk(Kind.LastUpdated, key),
        [{ Parameter.IsVersionColumn: false, Parameter.Type: SearchParamType.Date or SearchParamType.String } key] => new OrderedWalk(Kind.SortKey, key),
        [{ Parameter.IsVersionColumn: false, Parameter.Type: SearchParamType.Token } key] when sortable.Contains(key.Parameter.ResourceType, key.Parameter.Name) =>
            new OrderedWalk(Kind.SortKey, key),
        _ => null,
    };
}
