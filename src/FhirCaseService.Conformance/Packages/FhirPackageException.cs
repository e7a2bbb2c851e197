namespace FhirCaseService.Conformance.Packages;

/// <summary>A package or resource directory could not be opened; the message names the path and the reason.</summary>
public sealed class FhirPackageException : Exception
{
    public FhirPackageException(string message)
        : base(message)
    {
    }

    public FhirPackageException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
