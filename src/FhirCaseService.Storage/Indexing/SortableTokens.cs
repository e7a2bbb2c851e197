using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// The token parameters a deployment declares sortable (<see cref="StorageOptions.SortableTokenParameters"/>, bound
/// from <c>Search:SortableTokenParameters</c>): only these get sort-key rows (sort_text), so only their <c>_sort</c>
/// walks an index in order and stops after the page. Any other token parameter still sorts, by the general plan,
/// which computes each match's least or greatest code from idx_token; leaving the rows out makes a stored resource
/// about a third fewer bytes to write (docs/performance.md). Entries are <c>Type.param</c> (that type only) or a bare
/// <c>param</c> (every type that has it, e.g. <c>_tag</c>). String and date parameters always have their sort rows.
/// </summary>
internal sealed class SortableTokens
{
    /// <summary>What a database of schema 8 or older holds (a row for every token parameter with a code), as recorded by the v9 migration.</summary>
    internal const string AllEntry = "*";

    public static SortableTokens None { get; } = new([]);

    private readonly HashSet<string> _bare = new(StringComparer.Ordinal);
    private readonly HashSet<(string Type, string Param)> _typed = [];

    private SortableTokens(IEnumerable<string> entries)
    {
        Entries = entries.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var entry in Entries)
        {
            if (Split(entry) is ({ } type, var param))
                _typed.Add((type, param));
            else
                _bare.Add(entry);
        }
    }

    /// <summary>The declared entries, distinct, in ordinal order (what the database records).</summary>
    public IReadOnlyList<string> Entries { get; }

    public bool Contains(string resourceType, string param) => _bare.Contains(param) || _typed.Contains((resourceType, param));

    /// <summary>
    /// Checks and normalizes the configured entries (surrounding blanks trimmed, blanks and duplicates dropped). An entry
    /// naming a type must name an R4 resource type and one of its token parameters; a bare name must look like a
    /// parameter name (which types have it is decided per resource).
    /// </summary>
    public static SortableTokens Parse(IEnumerable<string>? configured, SearchParameterCatalog catalog)
    {
        var entries = new List<string>();
        foreach (var raw in configured ?? [])
        {
            var entry = raw?.Trim() ?? "";
            if (entry.Length == 0)
                continue;
            var (type, param) = Split(entry);
            if (!IsParameterName(param) || (type is not null && !ModelInfo.IsKnownResource(type)))
                throw new InvalidStorageRequestException(
                    $"Search:SortableTokenParameters entry '{entry}' is neither 'Type.param' (a FHIR R4 resource type and one of its parameters) nor a bare parameter name.");
            if (type is not null && catalog.Find(type, param) is not { Type: SearchParamType.Token, IsVersionColumn: false })
                throw new InvalidStorageRequestException($"Search:SortableTokenParameters entry '{entry}': {type} has no token search parameter '{param}'.");
            entries.Add(entry);
        }
        return new SortableTokens(entries);
    }

    /// <summary>The SQL condition "the row of <paramref name="alias"/> belongs to one of <paramref name="entries"/>" (no entries: false).</summary>
    internal static string MatchSql(IEnumerable<string> entries, string alias)
    {
        var parts = entries.Select(entry => Split(entry) is ({ } type, var param)
            ? $"({alias}.resource_type = '{type}' AND {alias}.param = '{param}')"
            : $"{alias}.param = '{entry}'").ToList();
        // Entries are checked by Parse (letters, digits, '-', '_' and one '.'), so they are safe as literals.
        return parts.Count == 0 ? "1 = 0" : "(" + string.Join(" OR ", parts) + ")";
    }

    private static (string? Type, string Param) Split(string entry)
    {
        var dot = entry.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? (null, entry) : (entry[..dot], entry[(dot + 1)..]);
    }

    private static bool IsParameterName(string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
