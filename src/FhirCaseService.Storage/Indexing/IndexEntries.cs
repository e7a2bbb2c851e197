namespace FhirCaseService.Storage.Indexing;

/// <summary>A token: a Coding, an Identifier, a code, a boolean. <see cref="Text"/> is normalized display/text for :text.</summary>
internal sealed record TokenEntry(string Param, string? System, string? Code, string? Text);

/// <summary>A string: <see cref="Normalized"/> is lowercase without accents (default and :contains); <see cref="Exact"/> for :exact.</summary>
internal sealed record StringEntry(string Param, string Normalized, string Exact);

/// <summary>A date or period as inclusive UTC instants in epoch milliseconds (a partial date covers its whole span).</summary>
internal sealed record DateEntry(string Param, long Low, long High);

/// <summary>A reference: a local "Type/id" target, or <see cref="Url"/> for anything else (absolute, canonical, urn).</summary>
internal sealed record ReferenceEntry(string Param, string? TargetType, string? TargetId, string? Url);

internal sealed record QuantityEntry(string Param, decimal Value, string? System, string? Code);

internal sealed record NumberEntry(string Param, decimal Value);

internal sealed record UriEntry(string Param, string Uri);

/// <summary>Everything one version contributes to the search index tables.</summary>
internal sealed class IndexEntries
{
    public List<TokenEntry> Tokens { get; } = [];
    public List<StringEntry> Strings { get; } = [];
    public List<DateEntry> Dates { get; } = [];
    public List<ReferenceEntry> References { get; } = [];
    public List<QuantityEntry> Quantities { get; } = [];
    public List<NumberEntry> Numbers { get; } = [];
    public List<UriEntry> Uris { get; } = [];

    /// <summary>How many entries of each kind there are (a mark for <see cref="DistinctSince"/>).</summary>
    public int[] Counts() => [Tokens.Count, Strings.Count, Dates.Count, References.Count, Quantities.Count, Numbers.Count, Uris.Count];

    /// <summary>Removes the entries added since <paramref name="mark"/> that equal another one added since then (a union's duplicates).</summary>
    public void DistinctSince(int[] mark)
    {
        Distinct(Tokens, mark[0]);
        Distinct(Strings, mark[1]);
        Distinct(Dates, mark[2]);
        Distinct(References, mark[3]);
        Distinct(Quantities, mark[4]);
        Distinct(Numbers, mark[5]);
        Distinct(Uris, mark[6]);
    }

    private static void Distinct<T>(List<T> entries, int from)
    {
        if (entries.Count - from < 2)
            return;
        var seen = new HashSet<T>();
        var kept = from;
        for (var i = from; i < entries.Count; i++)
            if (seen.Add(entries[i]))
                entries[kept++] = entries[i];
        entries.RemoveRange(kept, entries.Count - kept);
    }
}
