using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Builders;

/// <summary>StructureDefinition.context and contextInvariant of an extension definition compiled into an <see cref="ExtensionContextValidator"/>.</summary>
public static class ExtensionContextBuilder
{
    /// <summary>The placement rules of an extension definition; null for a definition of any other type.</summary>
    /// <param name="type">The type the definition constrains, as the compiled schema records it.</param>
    public static ExtensionContextValidator? Build(StructureDefinition definition, string type)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (type != "Extension")
            return null;
        var contexts = definition.Context
            .Where(c => !string.IsNullOrEmpty(c.Expression))
            .Select(c => new ExtensionContext(c.Type switch
            {
                StructureDefinition.ExtensionContextType.Extension => ExtensionContextKind.Extension,
                StructureDefinition.ExtensionContextType.Fhirpath => ExtensionContextKind.FhirPath,
                _ => ExtensionContextKind.Element,
            }, c.Expression!)).ToList();
        var invariants = definition.ContextInvariant.OfType<string>().Where(i => i.Trim().Length > 0).ToList();
        return new ExtensionContextValidator(definition.Url ?? "", contexts, invariants);
    }
}
