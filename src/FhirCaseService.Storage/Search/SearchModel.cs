using FhirCaseService.Storage.Indexing;

namespace FhirCaseService.Storage.Search;

public enum SearchPrefix { Eq, Ne, Gt, Lt, Ge, Le, Sa, Eb, Ap }

/// <summary>
/// How Bundle.total is answered: not at all, by counting every match, or (estimate) exactly when there are at most
/// <see cref="SearchExecutor.EstimatedTotalCap"/> matches and left out above, so a broad search never pays a full count.
/// </summary>
public enum TotalMode { None, Accurate, Estimate }

/// <summary>One value of a parameter; several in one parameter (comma) are ORed.</summary>
public abstract record SearchValue;

/// <summary>
/// code (any system), system|code, |code (no system: <see cref="NoSystem"/>), system| (any code of the system).
/// With :text, <see cref="Code"/> holds the normalized text.
/// </summary>
public sealed record TokenValue(string? System, string? Code, bool NoSystem) : SearchValue;

/// <summary>Normalized (lowercase, accents removed) unless the modifier is :exact.</summary>
public sealed record StringValue(string Text) : SearchValue;

/// <summary>The searched span of instants (epoch milliseconds, inclusive) from a possibly partial date.</summary>
public sealed record DateValue(SearchPrefix Prefix, long Low, long High) : SearchValue;

/// <summary>A number with the range its precision implies ("5.4" = [5.35, 5.45)); quantities add system and code.</summary>
public sealed record NumberValue(SearchPrefix Prefix, decimal Value, decimal Low, decimal High, string? System = null, string? Code = null) : SearchValue;

/// <summary>"Type/id", a bare id (any target type unless the :Type modifier says) or an absolute/canonical <see cref="Url"/>.</summary>
public sealed record ReferenceValue(string? Type, string? Id, string? Url) : SearchValue;

public sealed record UriValue(string Uri) : SearchValue;

/// <summary>One search condition; the conditions of a query are ANDed (a repeated parameter gives two conditions).</summary>
public abstract record SearchCriterion;

/// <summary>A parameter with its modifier (null, "text", "not", "exact", "contains", a target type) and ORed values; :missing sets <see cref="Missing"/>.</summary>
public sealed record ParameterCriterion(SearchParameterDefinition Parameter, string? Modifier, IReadOnlyList<SearchValue> Values, bool? Missing = null) : SearchCriterion;

/// <summary>subject:Patient.identifier=...: resources whose reference points at a <see cref="TargetType"/> matching <see cref="Inner"/>.</summary>
public sealed record ChainCriterion(SearchParameterDefinition Reference, string TargetType, SearchCriterion Inner) : SearchCriterion;

/// <summary>_has:Observation:patient:code=...: resources referenced through <see cref="Reference"/> by a <see cref="SourceType"/> matching <see cref="Inner"/>.</summary>
public sealed record HasCriterion(string SourceType, SearchParameterDefinition Reference, SearchCriterion Inner) : SearchCriterion;

public sealed record SortKey(SearchParameterDefinition Parameter, bool Descending);

/// <summary>_include (forward: the targets of <see cref="Reference"/>) or _revinclude (<see cref="Reverse"/>: the sources referencing the page).</summary>
public sealed record IncludeSpec(string SourceType, SearchParameterDefinition Reference, string? TargetType, bool Iterate, bool Reverse);
