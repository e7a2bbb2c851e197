namespace FhirCaseService.CaseSeries.Input;

/// <summary>The rule an input field broke; stable words for tests, tools and the docs.</summary>
public static class InputRules
{
    public const string InvalidJson = "invalid-json";
    public const string Missing = "missing";
    public const string WrongType = "wrong-type";
    public const string UnknownField = "unknown-field";
    public const string UnknownCode = "unknown-code";
    public const string InvalidValue = "invalid-value";
    public const string Duplicate = "duplicate";
    public const string DateOrder = "date-order";
    public const string UnknownReference = "unknown-reference";
}

/// <summary>One problem in a case-series file: where (field path and, when known, line/column), which rule, and what to do.</summary>
public sealed record InputError(string Path, string Rule, string Message, int? Line = null, int? Column = null)
{
    public override string ToString()
    {
        var location = Line is int line ? $"{line}:{Column ?? 1}: " : "";
        return $"{location}{(Path.Length == 0 ? "(file)" : Path)}: {Message} [{Rule}]";
    }
}
