using System.Globalization;
using System.Text.Json;

namespace FhirCaseService.CaseSeries.Input;

/// <summary>Collects every input error of one file (not only the first), each with its path, rule and position.</summary>
internal sealed class ReadErrors(JsonLocations locations)
{
    private readonly List<InputError> _errors = [];

    public IReadOnlyList<InputError> All => _errors;

    public void Add(string path, string rule, string message)
    {
        var position = locations.Find(path);
        _errors.Add(new InputError(path, rule, message, position?.Line, position?.Column));
    }
}

/// <summary>
/// Reads the fields of one JSON object by name, checking presence, JSON type, allowed codes and ranges,
/// and the "not-reported" literal. Fields it was never asked for are reported as unknown, which catches
/// typos a data manager would otherwise lose silently.
/// </summary>
internal sealed class FieldReader
{
    private readonly JsonElement _element;
    private readonly ReadErrors _errors;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public FieldReader(JsonElement element, string path, ReadErrors errors)
    {
        _element = element;
        Path = path;
        _errors = errors;
    }

    public string Path { get; }

    public ReadErrors Errors => _errors;

    public string PathOf(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    /// <summary>Reports fields that no read asked for. Call after reading all fields.</summary>
    public void RejectUnknownFields()
    {
        foreach (var property in _element.EnumerateObject())
        {
            if (!_known.Contains(property.Name) && property.Name != "$schema" && property.Name != "comment")
                _errors.Add(PathOf(property.Name), InputRules.UnknownField, $"unknown field '{property.Name}'; allowed here: {string.Join(", ", _known.Order(StringComparer.Ordinal))}");
        }
    }

    /// <summary>A field's raw value: None when absent, NotReported for the literal, else the element.</summary>
    private (Presence Presence, JsonElement Value) Raw(string name, bool required)
    {
        _known.Add(name);
        if (!_element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                _errors.Add(PathOf(name), InputRules.Missing, $"'{name}' is required (write \"{CaseSeriesFormat.NotReported}\" if the source does not report it)");
            return (Presence.Absent, default);
        }
        if (value.ValueKind == JsonValueKind.String && value.GetString() == CaseSeriesFormat.NotReported)
            return (Presence.NotReported, value);
        return (Presence.Present, value);
    }

    /// <summary>A string that can never be "not reported" (identifiers, titles).</summary>
    public string? Text(string name, bool required = true)
    {
        _known.Add(name);
        if (!_element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
                _errors.Add(PathOf(name), InputRules.Missing, $"'{name}' is required");
            return null;
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be a non-empty string");
            return null;
        }
        if (value.GetString() == CaseSeriesFormat.NotReported)
        {
            _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' cannot be \"{CaseSeriesFormat.NotReported}\"");
            return null;
        }
        return value.GetString();
    }

    public Fact<string> FreeText(string name, bool required)
    {
        var (presence, value) = Raw(name, required);
        if (presence != Presence.Present)
            return Fact<string>.NotReported;
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be a non-empty string or \"{CaseSeriesFormat.NotReported}\"");
            return Fact<string>.NotReported;
        }
        return Fact<string>.Of(value.GetString()!);
    }

    /// <summary>One code from a closed list.</summary>
    public Fact<string> Code(string name, IReadOnlyCollection<string> allowed, bool required = true, bool allowNotReported = true)
    {
        var (presence, value) = Raw(name, required);
        if (presence == Presence.Absent)
            return Fact<string>.NotReported;
        if (presence == Presence.NotReported)
        {
            if (!allowNotReported)
                _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' cannot be \"{CaseSeriesFormat.NotReported}\"");
            return Fact<string>.NotReported;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be one of the strings {Quoted(allowed)}");
            return Fact<string>.NotReported;
        }
        var code = value.GetString()!;
        if (!allowed.Contains(code))
        {
            _errors.Add(PathOf(name), InputRules.UnknownCode, $"'{code}' is not a known code for '{name}'; use one of {Quoted(allowed)}");
            return Fact<string>.NotReported;
        }
        return Fact<string>.Of(code);
    }

    public Fact<PartialDate> Date(string name, bool required = true, bool allowNotReported = true)
    {
        var (presence, value) = Raw(name, required);
        if (presence == Presence.NotReported && !allowNotReported)
            _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' cannot be \"{CaseSeriesFormat.NotReported}\"");
        if (presence != Presence.Present)
            return Fact<PartialDate>.NotReported;
        if (value.ValueKind != JsonValueKind.String || !PartialDate.TryParse(value.GetString()!, out var date))
        {
            _errors.Add(PathOf(name), value.ValueKind == JsonValueKind.String ? InputRules.InvalidValue : InputRules.WrongType,
                $"'{name}' must be a date written YYYY-MM-DD, YYYY-MM or YYYY (a real calendar date, year 1900 or later), or \"{CaseSeriesFormat.NotReported}\"");
            return Fact<PartialDate>.NotReported;
        }
        return Fact<PartialDate>.Of(date);
    }

    public Fact<int> Integer(string name, int min, int max, bool required = true, bool allowNotReported = true)
    {
        var (presence, value) = Raw(name, required);
        if (presence == Presence.Absent)
            return Fact<int>.NotReported;
        if (presence == Presence.NotReported)
        {
            if (!allowNotReported)
                _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' cannot be \"{CaseSeriesFormat.NotReported}\"");
            return Fact<int>.NotReported;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be a whole number{(allowNotReported ? $" or \"{CaseSeriesFormat.NotReported}\"" : "")}");
            return Fact<int>.NotReported;
        }
        if (number < min || number > max)
        {
            _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' is {number}; it must be between {min} and {max}");
            return Fact<int>.NotReported;
        }
        return Fact<int>.Of(number);
    }

    public Fact<decimal> Number(string name, decimal min, decimal max, bool required = true)
    {
        var (presence, value) = Raw(name, required);
        if (presence != Presence.Present)
            return Fact<decimal>.NotReported;
        return NumberValue(name, value, min, max);
    }

    public Fact<decimal> NumberValue(string name, JsonElement value, decimal min, decimal max)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDecimal(out var number))
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be a number or \"{CaseSeriesFormat.NotReported}\"");
            return Fact<decimal>.NotReported;
        }
        if (number < min || number > max)
        {
            _errors.Add(PathOf(name), InputRules.InvalidValue, $"'{name}' is {number.ToString(CultureInfo.InvariantCulture)}; it must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}");
            return Fact<decimal>.NotReported;
        }
        return Fact<decimal>.Of(number);
    }

    /// <summary>A nested object. Null when absent or "not-reported" (see <paramref name="notReported"/>) or of the wrong type.</summary>
    public FieldReader? Object(string name, bool required, out bool notReported)
    {
        var (presence, value) = Raw(name, required);
        notReported = presence == Presence.NotReported;
        if (presence != Presence.Present)
            return null;
        if (value.ValueKind != JsonValueKind.Object)
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be an object or \"{CaseSeriesFormat.NotReported}\"");
            return null;
        }
        return new FieldReader(value, PathOf(name), _errors);
    }

    /// <summary>The items of an array field with their paths; empty when absent, not reported or of the wrong type.</summary>
    public IReadOnlyList<(JsonElement Item, string Path)> Array(string name, bool required, out bool notReported)
    {
        var (presence, value) = Raw(name, required);
        notReported = presence == Presence.NotReported;
        if (presence != Presence.Present)
            return [];
        if (value.ValueKind != JsonValueKind.Array)
        {
            _errors.Add(PathOf(name), InputRules.WrongType, $"'{name}' must be an array{(required ? "" : " (omit it or write [] when there is none)")}");
            return [];
        }
        return value.EnumerateArray().Select((item, i) => (item, $"{PathOf(name)}[{i}]")).ToList();
    }

    /// <summary>A reader over an array item that must be an object.</summary>
    public FieldReader? ItemObject(JsonElement item, string path)
    {
        if (item.ValueKind == JsonValueKind.Object)
            return new FieldReader(item, path, _errors);
        _errors.Add(path, InputRules.WrongType, "each item here must be an object");
        return null;
    }

    public bool Has(string name) => _element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public JsonElement? RawValue(string name)
    {
        _known.Add(name);
        return _element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    private static string Quoted(IEnumerable<string> codes) => string.Join(", ", codes.Select(c => $"\"{c}\""));

    private enum Presence { Absent, NotReported, Present }
}
