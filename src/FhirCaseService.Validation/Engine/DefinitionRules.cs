using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Rules on a StructureDefinition as a definition derived from its base, as the reference validator checks them
/// (StructureDefinitionValidator.validateStructureDefinition and validateElementDefinition): with its base found, it
/// must state its derivation and, unless the base is abstract, have the base's kind; and a differential element may
/// not change a value its base fixes: its fixed[x] must be the same type and value, its pattern[x] the same type and
/// met by the base's fixed value. This is how a derived extension that names a url of its own is caught (ext-derived:
/// Extension.url is fixed to the base extension's url). The base element is the one whose id is the element's path,
/// the reference validator's lookup, so a slice is compared with the element it slices.
/// </summary>
internal static class DefinitionRules
{
    public static async ValueTask CheckAsync(PocoNode node, InstancePath path, ValidationRun run, SchemaRepository schemas)
    {
        if (node.Poco is not StructureDefinition definition || RawElements.Text(definition, "baseDefinition") is not { Length: > 0 } baseUrl
            || RawElements.Text(definition, "url") == baseUrl)
            return;
        var baseDefinition = (await schemas.GetDefinitionAsync(baseUrl).ConfigureAwait(false))?.Definition;
        if (baseDefinition?.Snapshot is null)
            return;

        if (RawElements.Text(definition, "derivation") is null)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound,
                $"A StructureDefinition with a base definition must say how it derives from it (derivation: constraint or specialization).", path, "sd-derivation");
        }
        if (baseDefinition.Abstract != true && RawElements.Text(definition, "kind") is { } kind
            && RawElements.Text(baseDefinition, "kind") is { } baseKind && kind != baseKind)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotFound,
                $"The kind '{kind}' differs from the kind '{baseKind}' of its base {baseUrl}.", path, "sd-kind");
        }

        var baseElements = baseDefinition.Snapshot.Element.Where(e => e.ElementId is not null)
            .DistinctBy(e => e.ElementId).ToDictionary(e => e.ElementId!, StringComparer.Ordinal);
        var differentialPath = path.Child("differential", 0, repeating: false);
        var index = 0;
        foreach (var element in RawElements.Many<Base>(RawElements.One<Base>(definition, "differential"), "element"))
        {
            var elementPath = differentialPath.Child("element", index++, repeating: true);
            if (element is not ElementDefinition differential || RawElements.Text(differential, "path") is not { } elementName
                || !baseElements.TryGetValue(elementName, out var baseElement) || baseElement.Fixed is not { } baseFixed)
                continue;
            CheckKept(RawElements.One<DataType>(differential, "fixed"), "fixed", baseFixed, baseUrl, elementPath, run);
            CheckKept(RawElements.One<DataType>(differential, "pattern"), "pattern", baseFixed, baseUrl, elementPath, run);
        }
    }

    private static void CheckKept(DataType? value, string name, DataType baseFixed, string baseUrl, InstancePath elementPath, ValidationRun run)
    {
        if (value is null)
            return;
        var location = elementPath.Child(name, 0, repeating: false, choiceType: value.TypeName);
        if (value.TypeName != baseFixed.TypeName)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                $"The {name} value is a {value.TypeName}, but {baseUrl} fixes this element to a {baseFixed.TypeName}.", location, "sd-fixed-kept");
            return;
        }
        if (!new FixedValueValidator(baseFixed, "sd-fixed-kept").Matches(value.ToPocoNode(ModelInfo.ModelInspector)))
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Value,
                $"Value {PocoMatching.Describe(value)} differs from {PocoMatching.Describe(baseFixed)}, which the base definition {baseUrl} fixes: a derived definition cannot change it.",
                location, "sd-fixed-kept");
        }
    }
}
