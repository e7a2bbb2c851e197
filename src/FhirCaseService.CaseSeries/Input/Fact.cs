namespace FhirCaseService.CaseSeries.Input;

/// <summary>
/// A value from a case-series record that may be "not reported". The input writes the literal string
/// "not-reported" (or omits an optional field); the mapper turns that into dataAbsentReason or an
/// omitted element, never into an invented value.
/// </summary>
public readonly record struct Fact<T>
{
    private readonly T? _value;

    private Fact(T? value, bool isReported)
    {
        _value = value;
        IsReported = isReported;
    }

    public static Fact<T> NotReported => default;

    public static Fact<T> Of(T value) => new(value, true);

    public bool IsReported { get; }

    /// <summary>The value; only meaningful when <see cref="IsReported"/>.</summary>
    public T Value => IsReported ? _value! : throw new InvalidOperationException("The value was not reported.");

    public bool TryGetValue(out T value)
    {
        value = _value!;
        return IsReported;
    }
}

/// <summary>Literals of the input format shared by the reader, the schema and the docs.</summary>
public static class CaseSeriesFormat
{
    /// <summary>The one spelling of "not reported" anywhere in a record.</summary>
    public const string NotReported = "not-reported";
}
