using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Validation;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// The strict parser's validator, except for the literal check of uri, url and canonical values, which the walk makes
/// as the reference validator does (<see cref="Primitives.PrimitiveFormats"/>): the SDK judges them with .NET's URI
/// parser, which rejects values the specification allows (a fragment after a urn:uuid,
/// <c>urn:uuid:...#AllergyIntolerance-urn:uuid:...</c>; <c>http://.........?</c> in SNOMED CT's code system; an empty
/// authority, <c>http:////acme.com/...</c>). A wrong JSON type where such a value belongs stays the parser's finding.
/// </summary>
internal sealed class UriLiteralsLeftToWalk(IPocoValidator inner) : IPocoValidator
{
    public IReadOnlyCollection<CodedValidationException> ValidateProperty(string name, object? propertyValue, PropertyMapping? propertyMapping,
        PocoValidationContext context) =>
        inner.ValidateProperty(name, propertyValue, propertyMapping, context);

    public IReadOnlyCollection<CodedValidationException> ValidateObject(Base instance, ClassMapping classMapping, PocoValidationContext context)
    {
        var errors = inner.ValidateObject(instance, classMapping, context);
        if (errors.Count == 0 || !IsUriLiteral(instance))
            return errors;
        return errors.Where(e => e.ErrorCode != CodedValidationException.LITERAL_INVALID_CODE).ToList();
    }

    /// <summary>A uri, url or canonical holding text (oid and uuid keep the SDK's stricter check).</summary>
    public static bool IsUriLiteral(Base instance) =>
        instance is PrimitiveType { JsonValue: string } && instance.TypeName is "uri" or "url" or "canonical";
}
