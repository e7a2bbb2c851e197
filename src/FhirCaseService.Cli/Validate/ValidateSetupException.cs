namespace FhirCaseService.Cli.Validate;

/// <summary>A --package or --profile that cannot be used; the run stops with exit 2 and this message.</summary>
public sealed class ValidateSetupException(string message, Exception? inner = null) : Exception(message, inner);
