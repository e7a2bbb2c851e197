using System.Globalization;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>fixed[x]: the value must be exactly the fixed one (for primitives, the same value; for complex types, the same content).</summary>
public sealed class FixedValueValidator : IElementValidator
{
    private readonly DataType _fixed;
    private readonly PocoNode _fixedNode;

    private readonly string _rule;

    /// <param name="rule">"pattern", or "slice-pattern" inside a slice (the item matched the slice and then broke its other rules).</param>
    public FixedValueValidator(DataType fixedValue, string rule)
    {
        ArgumentException.ThrowIfNullOrEmpty(rule);
        _rule = rule;
        ArgumentNullException.ThrowIfNull(fixedValue);
        _fixed = fixedValue;
        _fixedNode = fixedValue.ToPocoNode(ModelInfo.ModelInspector);
    }

    public bool Matches(PocoNode node) => node.Poco is PrimitiveType primitive && _fixed is PrimitiveType fixedPrimitive
        ? PocoMatching.SameValue(primitive.JsonValue, fixedPrimitive.JsonValue)
        : PocoMatching.Matches(node, _fixedNode, exact: true);

    public void Validate(in ElementVisit visit)
    {
        if (!Matches(visit.Node))
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"Value must be exactly {PocoMatching.Describe(_fixed)} (fixed by the profile).", visit.Path, _rule);
        }
    }
}

/// <summary>pattern[x]: every part of the pattern must be present in the value; the value may carry more.</summary>
public sealed class PatternValidator : IElementValidator
{
    private readonly DataType _pattern;
    private readonly PocoNode _patternNode;

    private readonly string _rule;

    /// <param name="rule">"pattern", or "slice-pattern" inside a slice.</param>
    public PatternValidator(DataType pattern, string rule)
    {
        ArgumentException.ThrowIfNullOrEmpty(rule);
        _rule = rule;
        ArgumentNullException.ThrowIfNull(pattern);
        _pattern = pattern;
        _patternNode = pattern.ToPocoNode(ModelInfo.ModelInspector);
    }

    public DataType Pattern => _pattern;

    public bool Matches(PocoNode node) => PocoMatching.Matches(node, _patternNode, exact: false);

    public void Validate(in ElementVisit visit)
    {
        if (!Matches(visit.Node))
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"Value does not match the pattern {PocoMatching.Describe(_pattern)} required by the profile.", visit.Path, _rule);
        }
    }
}

/// <summary>maxLength on string-like primitives.</summary>
public sealed class MaxLengthValidator : IElementValidator
{
    private readonly int _maxLength;

    public MaxLengthValidator(int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        _maxLength = maxLength;
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is PrimitiveType { JsonValue: string text } && text.Length > _maxLength)
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"Value is {text.Length} characters long; at most {_maxLength} are allowed.", visit.Path, "maxLength");
        }
    }
}

/// <summary>The HL7 minLength extension on an ElementDefinition: a string value at least this long.</summary>
public sealed class MinLengthValidator : IElementValidator
{
    public const string ExtensionUrl = "http://hl7.org/fhir/StructureDefinition/minLength";

    private readonly int _minLength;

    public MinLengthValidator(int minLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minLength);
        _minLength = minLength;
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is PrimitiveType { JsonValue: string text } && text.Length < _minLength)
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"Value '{text}' is {text.Length} characters long; at least {_minLength} are required.", visit.Path, "minLength");
        }
    }
}

/// <summary>Attachment.size is the number of bytes of Attachment.data (attachment.html): when both are given they must agree.</summary>
public sealed class AttachmentSizeValidator : IElementValidator
{
    public static readonly AttachmentSizeValidator Instance = new();

    private AttachmentSizeValidator()
    {
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not Attachment attachment || RawElements.Number(attachment, "size") is not decimal stated
            || RawElements.One<PrimitiveType>(attachment, "data")?.JsonValue is not string data)
            return;
        // Malformed base64 is the primitive format check's finding; the size cannot be judged then.
        var buffer = new byte[data.Length];
        if (!Convert.TryFromBase64String(data, buffer, out var actual) || actual == stated)
            return;
        visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
            $"Attachment.size says {stated} bytes, but the data holds {actual}.", visit.Path, "attachment-size");
    }
}

/// <summary>
/// The HL7 narrative-language-control extension on an ElementDefinition of a Narrative: "_no" forbids language
/// sections (child divs of the narrative's div carrying lang or xml:lang), "_yes" requires some, "_resource" requires
/// one in the resource's language, and language codes require one section each.
/// </summary>
public sealed class NarrativeLanguageValidator : IElementValidator
{
    public const string ExtensionUrl = "http://hl7.org/fhir/StructureDefinition/narrative-language-control";

    private readonly IReadOnlyList<string> _controls;

    public NarrativeLanguageValidator(IReadOnlyList<string> controls)
    {
        ArgumentNullException.ThrowIfNull(controls);
        _controls = controls;
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not Narrative narrative || RawElements.Text(narrative, "div") is not { } div || Sections(div) is not { } sections)
            return;
        var found = string.Join(", ", sections.Order(StringComparer.Ordinal));
        foreach (var control in _controls)
        {
            string? problem = control switch
            {
                "_no" when sections.Count > 0 => $"The narrative has language sections ({found}), but the profile prohibits them here.",
                "_yes" when sections.Count == 0 => "The narrative has no language sections, but the profile requires them here.",
                "_resource" => RawElements.Text(visit.Resource.Poco, "language") is { } language && !sections.Contains(language)
                    ? $"The profile requires a narrative section in the resource's language ({language}), but found {(sections.Count == 0 ? "none" : found)}."
                    : null,
                "_no" or "_yes" => null,
                _ when !sections.Contains(control) => $"The profile requires a narrative section in language {control}, but found {(sections.Count == 0 ? "none" : found)}.",
                _ => null,
            };
            if (problem is not null)
                visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.BusinessRule, problem, visit.Path, "narrative-language");
        }
    }

    /// <summary>The languages of the div's child divs that carry lang or xml:lang; null when the XHTML cannot be read (the narrative checks report that).</summary>
    private static HashSet<string>? Sections(string div)
    {
        try
        {
            var root = System.Xml.Linq.XElement.Parse(div);
            var languages = new HashSet<string>(StringComparer.Ordinal);
            foreach (var child in root.Elements().Where(e => e.Name.LocalName == "div"))
            {
                var language = (string?)child.Attribute("lang") ?? (string?)child.Attribute(System.Xml.Linq.XNamespace.Xml + "lang");
                if (!string.IsNullOrEmpty(language))
                    languages.Add(language);
            }
            return languages;
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }
}

/// <summary>
/// minValue[x] / maxValue[x] on numbers, dates, times and Quantities. A Quantity limit on a Quantity compares in the
/// limit's unit (converted when both are UCUM); on a date, dateTime or instant it is a time span from now (the
/// reference validator's minValueDuration: the value may be no earlier than now minus the span, or for a maximum no
/// later than now plus it). See <see cref="QuantityRange"/>.
/// </summary>
public sealed class ValueRangeValidator : IElementValidator
{
    private static readonly HashSet<string> DateTypes = new(StringComparer.Ordinal) { "date", "dateTime", "instant" };

    private readonly DataType _limit;
    private readonly bool _isMinimum;
    private readonly Func<DateTimeOffset> _now;

    public ValueRangeValidator(DataType limit, bool isMinimum)
        : this(limit, isMinimum, static () => DateTimeOffset.UtcNow)
    {
    }

    /// <param name="now">The clock relative limits are counted from.</param>
    public ValueRangeValidator(DataType limit, bool isMinimum, Func<DateTimeOffset> now)
    {
        ArgumentNullException.ThrowIfNull(limit);
        ArgumentNullException.ThrowIfNull(now);
        _limit = limit;
        _isMinimum = isMinimum;
        _now = now;
    }

    public void Validate(in ElementVisit visit)
    {
        var value = visit.Node.Poco;
        if (_limit is Quantity span && value is PrimitiveType { JsonValue: string text } && DateTypes.Contains(value.TypeName))
        {
            ValidateRelativeDate(visit, text, span);
            return;
        }
        if (value is Quantity quantity && _limit is Quantity limitQuantity)
        {
            ValidateQuantity(visit, quantity, limitQuantity);
            return;
        }
        var comparison = Compare(value, _limit);
        if (comparison is not null && (_isMinimum ? comparison < 0 : comparison > 0))
            Report(visit, $"Value {PocoMatching.Describe(value)} is {Beyond} {PocoMatching.Describe(_limit)}.");
    }

    private string Beyond => _isMinimum ? "below the minimum" : "above the maximum";

    private void Report(in ElementVisit visit, string message) =>
        visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value, message, visit.Path, _isMinimum ? "minValue" : "maxValue");

    private void ValidateRelativeDate(in ElementVisit visit, string text, Quantity span)
    {
        var amount = RawElements.Number(span, "value");
        var code = RawElements.Text(span, "code");
        var limit = amount is decimal a && RawElements.Text(span, "comparator") is null && RawElements.Text(span, "system") == QuantityRange.Ucum
            ? QuantityRange.RelativeToNow(_now(), a, code, subtract: _isMinimum)
            : null;
        if (limit is null)
        {
            Report(visit, $"The profile's {(_isMinimum ? "minimum" : "maximum")} {PocoMatching.Describe(span)} is not a UCUM time span without a comparator, so it cannot limit a {visit.Node.Poco.TypeName}.");
            return;
        }
        if (QuantityRange.StartOf(text) is not { } start)
            return;
        if (_isMinimum ? start < limit : start > limit)
        {
            var limitText = limit.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Report(visit, $"Value '{text}' is {(_isMinimum ? "earlier" : "later")} than {PocoMatching.Describe(span)} {(_isMinimum ? "before" : "after")} today ({limitText}), the profile's {(_isMinimum ? "minimum" : "maximum")}.");
        }
    }

    private void ValidateQuantity(in ElementVisit visit, Quantity value, Quantity limit)
    {
        if (RawElements.Number(value, "value") is not decimal amount || RawElements.Number(limit, "value") is not decimal limitAmount)
            return;
        var code = RawElements.Text(value, "code");
        var limitCode = RawElements.Text(limit, "code");
        var system = RawElements.Text(value, "system");
        if (code is null || limitCode is null || system is null || system != RawElements.Text(limit, "system"))
            return;
        decimal compared;
        if (code == limitCode)
        {
            compared = amount;
        }
        else if (system == QuantityRange.Ucum)
        {
            var conversion = QuantityRange.Convert(amount, code, limitCode);
            if (conversion.IsIncommensurable)
            {
                Report(visit, $"Value {PocoMatching.Describe(value)} cannot be compared with the {(_isMinimum ? "minimum" : "maximum")} {PocoMatching.Describe(limit)}: the units measure different things.");
                return;
            }
            if (conversion.Value is not decimal converted)
                return;
            compared = converted;
        }
        else
        {
            return;
        }
        if (_isMinimum ? compared < limitAmount : compared > limitAmount)
            Report(visit, $"Value {PocoMatching.Describe(value)} is {Beyond} {PocoMatching.Describe(limit)}.");
    }

    /// <summary>Negative when the value is less than the limit; null when they cannot be compared.</summary>
    private static int? Compare(Base value, DataType limit)
    {
        switch (value, limit)
        {
            case (PrimitiveType { JsonValue: { } v }, PrimitiveType { JsonValue: { } l }):
                if (ToDecimal(v) is decimal dv && ToDecimal(l) is decimal dl)
                    return dv.CompareTo(dl);
                if (v is string sv && l is string sl && sv.Length == sl.Length)
                    return string.CompareOrdinal(sv, sl);
                return null;
            default:
                return null;
        }
    }

    private static decimal? ToDecimal(object value) => value switch
    {
        int i => i,
        long l => l,
        decimal d => d,
        _ => null,
    };
}

/// <summary>Comparison of SDK values as FHIR defines fixed (exact) and pattern (contained) matching.</summary>
public static class PocoMatching
{
    public static bool SameValue(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (decimal x, decimal y) => x == y,
        (null, _) or (_, null) => false,
        _ => string.Equals(Convert.ToString(a, CultureInfo.InvariantCulture), Convert.ToString(b, CultureInfo.InvariantCulture), StringComparison.Ordinal),
    };

    /// <summary>Every element of <paramref name="expected"/> is in <paramref name="actual"/>; with <paramref name="exact"/>, nothing else is.</summary>
    public static bool Matches(PocoNode actual, PocoNode expected, bool exact)
    {
        if (expected.Poco is PrimitiveType expectedPrimitive &&
            (actual.Poco is not PrimitiveType actualPrimitive || !SameValue(actualPrimitive.JsonValue, expectedPrimitive.JsonValue)))
            return false;
        var expectedCount = 0;
        foreach (var expectedChildren in expected.Children())
        {
            var actualChildren = actual.Child(expectedChildren.Name);
            if (actualChildren is null)
                return false;
            var actualList = actualChildren.Where(c => c.Poco is not null).ToList();
            foreach (var expectedItem in expectedChildren)
            {
                expectedCount++;
                if (!actualList.Exists(candidate => Matches(candidate, expectedItem, exact)))
                    return false;
            }
            if (exact && actualList.Count != expectedChildren.Count())
                return false;
        }
        return !exact || actual.Children().Sum(c => c.Count(item => item.Poco is not null)) == expectedCount;
    }

    /// <summary>A short human rendering of a value for messages.</summary>
    public static string Describe(Base value) => value switch
    {
        PrimitiveType primitive => $"'{Convert.ToString(primitive.JsonValue, CultureInfo.InvariantCulture)}'",
        Coding coding => DescribeCoding(coding),
        CodeableConcept concept => RawElements.Many<Coding>(concept, "coding").ToList() is { Count: > 0 } codings
            ? string.Join(" or ", codings.Select(DescribeCoding))
            : $"'{RawElements.Text(concept, "text")}'",
        Quantity quantity => $"{RawElements.Number(quantity, "value")?.ToString(CultureInfo.InvariantCulture)} {RawElements.Text(quantity, "code") ?? RawElements.Text(quantity, "unit")}".Trim(),
        Identifier identifier => $"identifier {RawElements.Text(identifier, "system")}|{RawElements.Text(identifier, "value")}",
        _ => Conformance.Serialization.FhirSerialization.ToJson(value),
    };

    private static string DescribeCoding(Coding coding)
    {
        var system = RawElements.Text(coding, "system");
        var code = RawElements.Text(coding, "code");
        return RawElements.Text(coding, "display") is { } display ? $"{system}|{code} ({display})" : $"{system}|{code}";
    }
}

/// <summary>
/// A primitive whose definition requires a value (mustHaveValue), or allows only some extensions in place of an absent
/// value (valueAlternatives): a primitive with extensions only, and none of the allowed ones, breaks the rule.
/// </summary>
public sealed class ValuePresenceValidator : IElementValidator
{
    private readonly string _elementPath;
    private readonly bool _mustHaveValue;
    private readonly IReadOnlyList<string> _alternatives;

    public ValuePresenceValidator(string elementPath, bool mustHaveValue, IReadOnlyList<string> alternatives)
    {
        ArgumentException.ThrowIfNullOrEmpty(elementPath);
        ArgumentNullException.ThrowIfNull(alternatives);
        if (!mustHaveValue && alternatives.Count == 0)
            throw new ArgumentException("A value-presence rule needs mustHaveValue or at least one alternative.", nameof(alternatives));
        _elementPath = elementPath;
        _mustHaveValue = mustHaveValue;
        _alternatives = alternatives;
    }

    public void Validate(in ElementVisit visit)
    {
        if (visit.Node.Poco is not PrimitiveType primitive || primitive.JsonValue is not null)
            return;
        if (_mustHaveValue)
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"{_elementPath} must have a value (mustHaveValue); extensions alone do not stand in for it.", visit.Path, "value-required");
            return;
        }
        var urls = RawElements.Many<Extension>(primitive, "extension").Select(e => RawElements.Text(e, "url"));
        if (!urls.Any(url => url is not null && _alternatives.Contains(url, StringComparer.Ordinal)))
        {
            visit.Run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"{_elementPath} has no value, so one of the extensions allowed in its place must be present: {string.Join(", ", _alternatives)}.", visit.Path, "value-alternatives");
        }
    }
}
