using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Validators;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Engine;

/// <summary>
/// Rules about where an extension sits, checked on the element that carries it (the reference validator reports them
/// there): its URL must be absolute unless it is a sub-extension of a complex extension; a known definition's compiled
/// <see cref="ExtensionContextValidator"/> decides whether the carrier is among its contexts and meets its
/// contextInvariants; Resource.id carries no extension.
/// </summary>
internal sealed class ExtensionPlacement(SchemaRepository schemas)
{
    /// <summary>Checks the extensions of one carrier; <paramref name="carrierElement"/> is the schema element the carrier was validated against.</summary>
    public async ValueTask CheckAsync(PocoNode carrier, ElementSchema carrierElement, InstancePath carrierPath, PocoNode resource,
        string elementName, List<PocoNode> extensions, ValidationRun run)
    {
        ExtensionCarrier? described = null;
        for (var index = 0; index < extensions.Count; index++)
        {
            if (extensions[index].Poco is not Extension extension || RawElements.Text(extension, "url") is not { Length: > 0 } url)
                continue;
            if (!url.Contains(':', StringComparison.Ordinal))
            {
                // A relative url names a sub-extension of a complex extension; anywhere else it names nothing.
                if (carrier.Poco is not Extension)
                {
                    run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Invalid,
                        $"Extension.url must be an absolute URL ('{url}' is not).", carrierPath.Child(elementName, index, repeating: true), "extension-url");
                }
                continue;
            }
            if ((await schemas.GetAsync(url).ConfigureAwait(false)).Schema?.Placement is { } placement)
                placement.Validate(described ??= new ExtensionCarrier(carrier, carrierElement, carrierPath, resource), run);
        }
    }

    /// <summary>Resource.id is a plain identity: an extension on it is an error (the reference validator's rule).</summary>
    public static void CheckResourceId(PocoNode id, InstancePath idPath, ValidationRun run)
    {
        if (RawElements.Count(id.Poco, "extension") > 0)
        {
            run.Report(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.Structure,
                "Extensions are not allowed on Resource.id.", idPath, "resource-id-extension");
        }
    }
}
