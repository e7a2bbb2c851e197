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
}
