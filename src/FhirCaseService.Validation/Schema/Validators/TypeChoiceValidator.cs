using System.Collections.Frozen;
using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Validators;

/// <summary>
/// ElementDefinition.type compiled into a lookup from instance type to declared type: exact codes in a table, and the
/// wildcards the R4 definitions use (BackboneElement/Element for inline components, Resource/DomainResource for any
/// resource, System.* for a primitive's own value) as precomputed fall-backs. For a choice element (value[x]) the
/// parser has already turned the serialized name (valueQuantity) into the instance type, so this table is the choice's
/// name-to-type resolution too.
/// </summary>
public sealed class TypeChoiceValidator
{
    private readonly FrozenDictionary<string, TypeReference> _byCode;
    private readonly TypeReference? _anyComponent;
    private readonly TypeReference? _anyResource;
    private readonly TypeReference? _systemType;
    private readonly string _allowedText;
    private readonly string _rule;

    public TypeChoiceValidator(string elementPath, IReadOnlyList<TypeReference> types)
    {
        ArgumentException.ThrowIfNullOrEmpty(elementPath);
        ArgumentNullException.ThrowIfNull(types);
        ElementPath = elementPath;
        var byCode = new Dictionary<string, TypeReference>(StringComparer.Ordinal);
        foreach (var type in types)
        {
            byCode.TryAdd(type.Code, type);
            if (type.Code is "BackboneElement" or "Element")
                _anyComponent ??= type;
            if (type.Code is "Resource" or "DomainResource")
                _anyResource ??= type;
            if (type.Code.StartsWith("http://hl7.org/fhirpath/System.", StringComparison.Ordinal))
                _systemType ??= type;
        }
        _byCode = byCode.ToFrozenDictionary(StringComparer.Ordinal);
        _allowedText = string.Join(", ", types.Select(t => t.Code));
        _rule = elementPath.StartsWith("Extension.value", StringComparison.Ordinal) ? ExtensionValueRule : "type";
        IsUntyped = types.Count == 0;
    }

    public string ElementPath { get; }

    /// <summary>The element declares no type (the root of a definition, or a contentReference): any instance type passes.</summary>
    public bool IsUntyped { get; }

    /// <summary>The declared type the instance type matches, or null when the instance type is not allowed here.</summary>
    public TypeReference? Resolve(string instanceType) => Resolve(instanceType, out _);

    /// <summary>As <see cref="Resolve(string)"/>; <paramref name="exact"/> says whether the declared code is the instance type itself (not a wildcard).</summary>
    public TypeReference? Resolve(string instanceType, out bool exact)
    {
        exact = _byCode.TryGetValue(instanceType, out var declared);
        if (exact)
            return declared;
        // Backbone components carry their path as type name (Observation.component).
        if (_anyComponent is not null && instanceType.Contains('.', StringComparison.Ordinal))
            return _anyComponent;
        if (_anyResource is not null && ModelInfo.IsKnownResource(instanceType))
            return _anyResource;
        return _systemType;
    }

    /// <summary>
    /// Reports an instance type the element does not allow: at the node, except for an extension's value, which is
    /// reported at the extension (<paramref name="ownerPath"/>), as the reference validator reports "the extension allows
    /// for the types [url] but found type uri": the extension as a whole is misused.
    /// </summary>
    public void ReportNotAllowed(string instanceType, in InstancePath path, in InstancePath ownerPath, ValidationRun run) =>
        run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
            $"Type {instanceType} is not allowed for {ElementPath}; allowed: {_allowedText}.", _rule == ExtensionValueRule ? ownerPath : path, _rule);

    private const string ExtensionValueRule = "extension-value-type";
}
