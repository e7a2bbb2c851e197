using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema.Builders;

/// <summary>The narrative's hyperlinks, on the Narrative type's div (so on every narrative, whatever profile holds it).</summary>
public sealed class NarrativeLinkBuilder : IValidatorBuilder
{
    public IEnumerable<IElementValidator> Build(ElementDefinition element) =>
        element.Path == "Narrative.div" ? [NarrativeLinkValidator.Instance] : [];
}
