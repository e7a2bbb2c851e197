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

/// <summary>
/// A version's sort key for a date parameter: the earliest low (ascending sorts) and latest high (descending sorts)
/// of its <see cref="DateEntry"/> rows, FHIR's rule for repeats, kept in a row of its own so a sorted search can walk
/// an index in order and stop after the page.
/// </summary>
internal sealed record DateSortKey(string Param, long Min, long Max);

/// <summary>A version's sort key for a string (normalized value) or token (code) parameter: its least and greatest value.</summary>
internal sealed record TextSortKey(string Param, string Min, string Max);

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

    /// <summary>One per date parameter with a value (<see cref="ComputeSortKeys"/>).</summary>
    public List<DateSortKey> DateSortKeys { get; } = [];

    /// <summary>
    /// One per string parameter with a value and per token parameter with a code that the deployment declares sortable
    /// (<see cref="ComputeSortKeys"/>).
    /// </summary>
    public List<TextSortKey> TextSortKeys { get; } = [];

    /// <summary>
    /// Derives the sort keys from the entries, at prepare time (outside the write transaction). Text compares by code
    /// point, which is both engines' order for these columns (SQLite BINARY; PostgreSQL text columns use "C"). A token
    /// parameter gets its key only when <paramref name="sortable"/> declares it for <paramref name="resourceType"/>: every
    /// write path (transactions, $import, PostgreSQL's COPY) stores what is computed here.
    /// </summary>
    public void ComputeSortKeys(string resourceType, SortableTokens sortable)
    {
        DateSortKeys.Clear();
        TextSortKeys.Clear();
        foreach (var group in Dates.GroupBy(d => d.Param, StringComparer.Ordinal))
            DateSortKeys.Add(new DateSortKey(group.Key, group.Min(d => d.Low), group.Max(d => d.High)));
        foreach (var group in Strings.GroupBy(s => s.Param, StringComparer.Ordinal))
            TextSortKeys.Add(TextKey(group.Key, group.Select(s => s.Normalized)));
        foreach (var group in Tokens.Where(t => t.Code is not null && sortable.Contains(resourceType, t.Param)).GroupBy(t => t.Param, StringComparer.Ordinal))
            TextSortKeys.Add(TextKey(group.Key, group.Select(t => t.Code!)));
    }

    private static TextSortKey TextKey(string param, IEnumerable<string> values)
    {
        string? min = null, max = null;
        foreach (var value in values)
        {
            if (min is null || CodePointOrder.Compare(value, min) < 0)
                min = value;
            if (max is null || CodePointOrder.Compare(value, max) > 0)
                max = value;
        }
        return new TextSortKey(param, min!, max!);
    }

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

/// <summary>
/// Orders strings by Unicode code point, as UTF-8 bytes compare: differs from <see cref="StringComparer.Ordinal"/>
/// (UTF-16 code units) only where a supplementary character meets one from U+E000 to U+FFFF.
/// </summary>
internal static class CodePointOrder
{
    public static int Compare(string x, string y)
    {
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a == b)
                continue;
            // A surrogate (a code point above U+FFFF) sorts after every character it is compared with here.
            if (char.IsSurrogate(a) != char.IsSurrogate(b))
                return char.IsSurrogate(a) ? 1 : -1;
            return a.CompareTo(b);
        }
        return x.Length.CompareTo(y.Length);
    }
}
