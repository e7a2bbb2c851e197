using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Validation;
using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;

namespace FhirCaseService.Cli.Validate;

/// <summary>
/// The validator `fhircase validate` uses: core R4, our bundled profiles and every --package, in one Conformance
/// context, with the engine on top, composed by <see cref="ValidationServiceCollectionExtensions.AddFhirCaseValidation"/>
/// exactly as the API composes its validator. Profiles named with --profile must resolve to a StructureDefinition there, so a
/// typo is a usage error (exit 2) rather than the same issue repeated on every file.
/// </summary>
public static class ValidateEngine
{
    public static Task<IResourceValidator> CreateAsync(IReadOnlyList<string> packagePaths, IReadOnlyList<string> profiles, CancellationToken cancellationToken)
    {
        var builder = ConformanceContext.CreateBuilder().AddBundledProfiles();
        foreach (var path in packagePaths)
        {
            try
            {
                builder.AddPackage(path);
            }
            catch (FhirPackageException e)
            {
                throw new ValidateSetupException($"--package {e.Message}", e);
            }
        }
        var context = builder.Build();
        foreach (var profile in profiles)
        {
            if (context.Resolver.Resolve(profile) is not StructureDefinition)
                throw new ValidateSetupException($"--profile {profile}: no StructureDefinition with this canonical URL in core R4, our package or the packages given");
        }
        cancellationToken.ThrowIfCancellationRequested();
        // The provider is not disposed: the validator it holds lives for the whole run, and so does the process.
        var services = new ServiceCollection().AddFhirCaseValidation(context).BuildServiceProvider();
        return System.Threading.Tasks.Task.FromResult(services.GetRequiredService<IResourceValidator>());
    }
}
