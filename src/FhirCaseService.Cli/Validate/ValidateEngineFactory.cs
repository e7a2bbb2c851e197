using FhirCaseService.Validation;

namespace FhirCaseService.Cli.Validate;

/// <summary>
/// Builds the validator for one run from the packages named with --package (full paths), checking that the profiles
/// named with --profile exist; throws <see cref="ValidateSetupException"/> when either cannot be used.
/// </summary>
public delegate Task<IResourceValidator> ValidateEngineFactory(IReadOnlyList<string> packagePaths, IReadOnlyList<string> profiles, CancellationToken cancellationToken);
