using Hl7.Fhir.FhirPath;
using Hl7.FhirPath;
using Hl7.FhirPath.Expressions;

namespace FhirCaseService.Conformance.FhirPath;

/// <summary>
/// The one FHIRPath compiler configuration, shared by the validator's invariants and the store's search parameters, so
/// an expression means the same in both: the standard function set plus FHIR's (resolve, memberOf, htmlChecks...).
/// Callers cache what they compile; the compiler itself holds no per-expression state.
/// </summary>
public static class FhirPathCompilers
{
    public static FhirPathCompiler Fhir { get; } = new(new SymbolTable().AddStandardFP().AddFhirExtensions());
}
