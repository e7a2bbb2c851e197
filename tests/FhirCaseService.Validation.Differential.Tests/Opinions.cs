using Firely.Fhir.Validation;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.TestSupport;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;

namespace FhirCaseService.Validation.Differential.Tests;

/// <summary>One error as an engine worded it: enough to match it against the list of known differences.</summary>
/// <param name="Rule">our rule id; for Firely, the SDK parser's or validator's message text.</param>
public sealed record ReportedError(string Rule, string Location, string Message)
{
    public override string ToString() => $"{Rule} at {Location}: {Message}";
}

/// <summary>What one engine says about one instance: its errors (fatal included). Valid means no error.</summary>
public sealed record Opinion(IReadOnlyList<ReportedError> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>Our engine as the CLI runs it (<see cref="ValidationOptions.Reference"/>: the HL7 reference validator's policies).</summary>
public sealed class OurEngine
{
    private readonly FhirValidator _validator = new(ConformanceContext.CreateDefault());

    public async Task<Opinion> JudgeAsync(string json)
    {
        var result = await _validator.ValidateAsync(json, ResourceFormat.Json, ValidationOptions.Reference);
        return new Opinion(result.Issues
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => new ReportedError(i.Rule, i.Location.Expression, i.Message))
            .ToList());
    }
}

/// <summary>
/// Firely's validator (Firely.Fhir.Validation.R4) over the official R4 specification.zip and our profiles/ folder, with
/// Firely's own local terminology service. Text is read by the SDK's strict parser first, as Firely's pipeline does: its
/// findings count as errors and the partial result is still validated.
/// </summary>
public sealed class FirelyEngine
{
    private readonly Validator _validator;

    public FirelyEngine()
    {
        var core = new ZipSource(Path.Combine(AppContext.BaseDirectory, "specification.zip"));
        var ours = new DirectorySource(RepositoryRoot.Combine("profiles"), new DirectorySourceSettings { IncludeSubDirectories = false });
        // Our profiles are published as differentials: Firely needs the snapshot generator in front of them.
        var resolver = new CachedResolver(new SnapshotSource(new MultiResolver(ours, core)));
        _validator = new Validator(resolver, new LocalTerminologyService(resolver), referenceResolver: null, new ValidationSettings());
    }

    public Opinion Judge(string json)
    {
        var errors = new List<ReportedError>();
        Resource? resource;
        try
        {
            resource = FhirSerialization.StrictJson.Deserialize<Resource>(json);
        }
        catch (DeserializationFailedException e)
        {
            resource = e.PartialResult as Resource;
            errors.AddRange(e.Exceptions.Select(x => new ReportedError("parser", "", x.Message)));
        }
        if (resource is not null)
        {
            var outcome = _validator.Validate(resource);
            errors.AddRange(outcome.Issue
                .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
                .Select(i => new ReportedError("firely", string.Join(", ", i.Expression), i.Details?.Text ?? i.Diagnostics ?? "")));
        }
        return new Opinion(errors);
    }
}
