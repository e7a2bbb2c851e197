using System.Globalization;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.FhirPath;

/// <summary>
/// Native evaluation of the constraint expressions that cost the most FHIRPath time on profiled case-series data: the
/// shapes of our package's own rules (a percentage Quantity, a coding that requires an extension, a dose's unit and
/// limit) and of con-5 and the like. Each is recognised by the exact text of its expression, constants captured, and
/// answers with the verdict the SDK's FHIRPath engine gives: true (holds), false (fails). Where the instance is not plainly
/// shaped (a primitive with extensions but no value, a list holding null, a Quantity subtype, a number of another kind)
/// it answers null and the FHIRPath engine decides. NativeConstraintsTests compares every answer with the engine's.
/// </summary>
internal static partial class NativeConstraints
{
    /// <summary>The native evaluator for <paramref name="expression"/>, or null when it has none. The evaluator takes the node's POCO.</summary>
    public static Func<Base, bool?>? For(string expression)
    {
        if (PercentQuantity().Match(expression) is { Success: true } quantity)
        {
            var (system, code) = (quantity.Groups[1].Value, quantity.Groups[2].Value);
            var (low, high) = (Number(quantity.Groups[3].Value), Number(quantity.Groups[4].Value));
            return poco => QuantityWithin(poco, system, code, low, high);
        }
        if (CodingNeedsExtension().Match(expression) is { Success: true } coding)
        {
            var (system, code, url) = (coding.Groups[1].Value, coding.Groups[2].Value, coding.Groups[3].Value);
            return poco => CodingAbsentOrExtension(poco, system, code, url);
        }
        if (CodingAbsentOrOtherEmpty().Match(expression) is { Success: true } status)
        {
            var (element, system, code, other) = (status.Groups[1].Value, status.Groups[2].Value, status.Groups[3].Value, status.Groups[4].Value);
            return poco => CodingAbsentOrEmpty(poco, element, system, code, other);
        }
        if (AllUnits().Match(expression) is { Success: true } units)
        {
            var (outer, inner, system, code) = (units.Groups[1].Value, units.Groups[2].Value, units.Groups[3].Value, units.Groups[4].Value);
            return poco => AllHaveUnit(poco, outer, inner, system, code);
        }
        if (DoseLimit().Match(expression) is { Success: true } dose)
        {
            var (outer, inner, system, code) = (dose.Groups[1].Value, dose.Groups[2].Value, dose.Groups[3].Value, dose.Groups[4].Value);
            var (limit, url) = (Number(dose.Groups[5].Value), dose.Groups[6].Value);
            return poco => DoseWithinLimit(poco, outer, inner, system, code, limit, url);
        }
        if (EitherExists().Match(expression) is { Success: true } either)
        {
            var (first, second) = (either.Groups[1].Value, either.Groups[2].Value);
            return poco => Exists(poco, first) is { } a && Exists(poco, second) is { } b ? a || b : null;
        }
        return null;
    }

    private static decimal Number(string literal) => decimal.Parse(literal, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^value\.ofType\(Quantity\)\.all\(system = '([^']*)' and code = '([^']*)' and value\.exists\(\) and value >= (\d+(?:\.\d+)?) and value <= (\d+(?:\.\d+)?)\)$")]
    private static partial Regex PercentQuantity();

    [GeneratedRegex(@"^value\.ofType\(CodeableConcept\)\.coding\.where\(system = '([^']*)' and code = '([^']*)'\)\.empty\(\) or extension\.where\(url = '([^']*)'\)\.exists\(\)$")]
    private static partial Regex CodingNeedsExtension();

    [GeneratedRegex(@"^([a-zA-Z]+)\.coding\.where\(system ?= ?'([^']*)' and code ?= ?'([^']*)'\)\.empty\(\) or ([a-zA-Z]+)\.empty\(\)$")]
    private static partial Regex CodingAbsentOrOtherEmpty();

    [GeneratedRegex(@"^([a-zA-Z]+)\.([a-zA-Z]+)\.all\(system = '([^']*)' and code = '([^']*)'\)$")]
    private static partial Regex AllUnits();

    [GeneratedRegex(@"^([a-zA-Z]+)\.([a-zA-Z]+)\.where\(system = '([^']*)' and code = '([^']*)'\)\.all\(iif\(value\.exists\(\), value <= (\d+(?:\.\d+)?), extension\('([^']*)'\)\.exists\(\)\)\)$")]
    private static partial Regex DoseLimit();

    [GeneratedRegex(@"^([a-zA-Z]+)\.exists\(\) or ([a-zA-Z]+)\.exists\(\)$")]
    private static partial Regex EitherExists();

    /// <summary>value.ofType(Quantity).all(system = S and code = C and value.exists() and value &gt;= low and value &lt;= high)</summary>
    private static bool? QuantityWithin(Base poco, string system, string code, decimal low, decimal high)
    {
        if (!TrySingle(poco, "value", out var value))
            return null;
        if (value is not Quantity quantity)
            return true;
        if (quantity.GetType() != typeof(Quantity) || !TryText(quantity, "system", out var s) || !TryText(quantity, "code", out var c)
            || !TryDecimal(quantity, "value", out var number))
            return null;
        return All(Equal(s, system), Equal(c, code), number is not null, number >= low, number <= high);
    }

    /// <summary>FHIRPath's = on a string element: empty when the element is.</summary>
    private static bool? Equal(string? value, string literal) => value is null ? null : value == literal;

    /// <summary>
    /// all(criteria) over one item whose criteria is a chain of <c>and</c>: false if a term is false, else empty if a term is
    /// empty. The SDK's all() answers empty for an empty criteria, which the validator reads as "holds" or as "fails"
    /// depending on the expression, so that case is left to the engine (null).
    /// </summary>
    private static bool? All(params ReadOnlySpan<bool?> terms)
    {
        var empty = false;
        foreach (var term in terms)
        {
            if (term == false)
                return false;
            empty |= term is null;
        }
        return empty ? null : true;
    }

    /// <summary>value.ofType(CodeableConcept).coding.where(system = S and code = C).empty() or extension.where(url = U).exists()</summary>
    private static bool? CodingAbsentOrExtension(Base poco, string system, string code, string url)
    {
        if (!TrySingle(poco, "value", out var value))
            return null;
        if (value is not CodeableConcept concept)
            return true;
        if (concept.GetType() != typeof(CodeableConcept) || HasCoding(concept, system, code) is not { } coded)
            return null;
        return coded ? HasExtension(poco, url) : true;
    }

    /// <summary>E.coding.where(system = S and code = C).empty() or F.empty() (con-5)</summary>
    private static bool? CodingAbsentOrEmpty(Base poco, string element, string system, string code, string other)
    {
        if (!TrySingle(poco, element, out var value))
            return null;
        bool? codingAbsent = value switch
        {
            null => true,
            CodeableConcept concept when concept.GetType() == typeof(CodeableConcept) => HasCoding(concept, system, code) is { } has ? !has : null,
            _ => null,
        };
        if (codingAbsent is not { } absent || Exists(poco, other) is not { } otherExists)
            return null;
        return absent || !otherExists;
    }

    /// <summary>A.B.all(system = S and code = C): every B of every A has that unit.</summary>
    private static bool? AllHaveUnit(Base poco, string outer, string inner, string system, string code)
    {
        if (!TryGrandchildren(poco, outer, inner, out var items))
            return null;
        // One item whose criteria is empty makes the SDK's answer depend on the order of the items: left to the engine.
        var holds = true;
        foreach (var item in items)
        {
            if (!TryText(item, "system", out var s) || !TryText(item, "code", out var c) || All(Equal(s, system), Equal(c, code)) is not { } matches)
                return null;
            holds &= matches;
        }
        return holds;
    }

    /// <summary>A.B.where(system = S and code = C).all(iif(value.exists(), value &lt;= limit, extension(U).exists()))</summary>
    private static bool? DoseWithinLimit(Base poco, string outer, string inner, string system, string code, decimal limit, string url)
    {
        if (!TryGrandchildren(poco, outer, inner, out var items))
            return null;
        var holds = true;
        foreach (var item in items)
        {
            if (!TryText(item, "system", out var s) || !TryText(item, "code", out var c))
                return null;
            if (s != system || c != code)
                continue;
            if (!TryDecimal(item, "value", out var number))
                return null;
            if (number is { } n)
                holds &= n <= limit;
            else if (HasExtension(item, url) is { } marked)
                holds &= marked;
            else
                return null;
        }
        return holds;
    }

    /// <summary>Whether a coding of the concept has exactly this system and code; null when a coding is not plainly shaped.</summary>
    private static bool? HasCoding(CodeableConcept concept, string system, string code)
    {
        if (!TryItems(concept, "coding", out var codings))
            return null;
        var found = false;
        foreach (var coding in codings)
        {
            if (!TryText(coding, "system", out var s) || !TryText(coding, "code", out var c))
                return null;
            found |= s == system && c == code;
        }
        return found;
    }

    private static bool? HasExtension(Base poco, string url)
    {
        if (!TryItems(poco, "extension", out var extensions))
            return null;
        var found = false;
        foreach (var extension in extensions)
        {
            if (!TryText(extension, "url", out var u))
                return null;
            found |= u == url;
        }
        return found;
    }

    /// <summary>E.exists() for a child: null for a list with a null in it or a primitive without a value.</summary>
    private static bool? Exists(Base poco, string name)
    {
        if (!TryItems(poco, name, out var items))
            return null;
        foreach (var item in items)
        {
            if (item is PrimitiveType { JsonValue: null })
                return null;
        }
        return items.Count > 0;
    }

    /// <summary>Every <paramref name="inner"/> of every <paramref name="outer"/>, in order.</summary>
    private static bool TryGrandchildren(Base poco, string outer, string inner, out List<Base> items)
    {
        items = [];
        if (!TryItems(poco, outer, out var parents))
            return false;
        foreach (var parent in parents)
        {
            if (!TryItems(parent, inner, out var children))
                return false;
            items.AddRange(children);
        }
        return true;
    }

    /// <summary>A child that holds at most one item (null when absent); false for a list or another shape.</summary>
    private static bool TrySingle(Base poco, string name, out Base? value)
    {
        value = null;
        if (!poco.TryGetValue(name, out var raw) || raw is null)
            return true;
        value = raw as Base;
        return value is not null;
    }

    /// <summary>The items of a child: none when absent, one for a single element, each of a list; false for a list holding null.</summary>
    private static bool TryItems(Base poco, string name, out IReadOnlyList<Base> items)
    {
        items = [];
        if (!poco.TryGetValue(name, out var raw) || raw is null)
            return true;
        switch (raw)
        {
            case Base single:
                items = [single];
                return true;
            case IReadOnlyList<Base?> list:
                foreach (var item in list)
                {
                    if (item is null)
                        return false;
                }
                items = list!;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A primitive child's text (null when absent); false for a primitive without a value or of another kind.</summary>
    private static bool TryText(Base poco, string name, out string? text)
    {
        text = null;
        if (!poco.TryGetValue(name, out var raw) || raw is null)
            return true;
        if (raw is PrimitiveType { JsonValue: string value })
        {
            text = value;
            return true;
        }
        return false;
    }

    /// <summary>A decimal child's value (null when absent); false for a decimal without a value or with a value of another kind.</summary>
    private static bool TryDecimal(Base poco, string name, out decimal? number)
    {
        number = null;
        if (!poco.TryGetValue(name, out var raw) || raw is null)
            return true;
        if (raw is FhirDecimal { JsonValue: decimal value })
        {
            number = value;
            return true;
        }
        return false;
    }
}
