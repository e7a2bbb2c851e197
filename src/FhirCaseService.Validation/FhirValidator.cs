using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using FhirCaseService.Validation.Schema;
using FhirCaseService.Validation.Schema.Validators;
using FhirCaseService.Validation.Terminology;
using Hl7.Fhir.Model;
using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Snapshots;

namespace FhirCaseService.Validation;

/// <summary>
/// The validation engine: core R4, meta.profile and caller-named profiles, compiled once per canonical and shared by
/// all calls. Create one per set of definitions and keep it (it is thread-safe); creation is cheap, compilation
/// happens on first use of each profile.
/// </summary>
public sealed class FhirValidator : IResourceValidator
{
    private readonly InstanceWalker _walker;

    /// <summary>The walker, for tests that observe its walks.</summary>
    internal InstanceWalker Walker => _walker;
    private readonly ITerminologyChecker _terminology;

    /// <summary>A validator over the definitions and terminology of a Conformance context (core R4 plus its packages).</summary>
    public FhirValidator(ConformanceContext context)
        : this(context?.Snapshots ?? throw new ArgumentNullException(nameof(context)), new LocalTerminologyChecker(context.Terminology))
    {
    }

    /// <param name="snapshots">StructureDefinitions with snapshots, by canonical URL.</param>
    /// <param name="terminology">Answers ValueSet membership for bindings.</param>
    public FhirValidator(SnapshotService snapshots, ITerminologyChecker terminology)
        : this(new SchemaRepository(snapshots ?? throw new ArgumentNullException(nameof(snapshots))), terminology)
    {
    }

    /// <summary>A validator over an existing compiled-schema cache: validators sharing one compile each profile once between them.</summary>
    public FhirValidator(SchemaRepository schemas, ITerminologyChecker terminology)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        ArgumentNullException.ThrowIfNull(terminology);
        Schemas = schemas;
        _walker = new InstanceWalker(Schemas);
        _terminology = terminology;
    }

    /// <summary>The compiled-schema cache (exposed for warm-up and diagnostics).</summary>
    public SchemaRepository Schemas { get; }

    public async Task<ValidationResult> ValidateAsync(string content, ResourceFormat format, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= ValidationOptions.Default;
        ExternalTargets? fetched = null;
        // A big Bundle is read entry by entry on as many workers as then validate its entries.
        var degree = options.ParallelEntryThreshold > 0 ? Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount) : 1;
        if (format == ResourceFormat.Json && InstanceReader.TryReadClean(content, options.ParallelEntryThreshold, degree) is { Resource: { } clean } fast)
        {
            // The strict pass reuses what the fast pass fetched through the reference resolver (a read each, maybe remote).
            fetched = new ExternalTargets();
            var fastResult = await ValidateParsedAsync(clean, fast.SourceMap, [], options, cancellationToken, fetched).ConfigureAwait(false);
            // Without errors the strict parser would have had nothing to add (TryReadClean); with errors its findings
            // may belong beside them, worded and placed as it words and places them, so the text is read again strictly.
            if (!fastResult.HasErrors)
                return fastResult;
        }
        var parsed = InstanceReader.Read(content, format);
        if (parsed.Resource is null)
            return new ValidationResult(parsed.Issues.Select(i => i.Issue).ToArray());
        return await ValidateParsedAsync(parsed.Resource, parsed.SourceMap, parsed.Issues, options, cancellationToken, fetched).ConfigureAwait(false);
    }

    public Task<ValidationResult> ValidateAsync(Resource resource, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return ValidateParsedAsync(resource, null, [], options ?? ValidationOptions.Default, cancellationToken);
    }

    public async Task<ValidationResult> ValidateAsync(ParsedInstance instance, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.Resource is null)
            return new ValidationResult(instance.Issues.Select(i => i.Issue).ToArray());
        return await ValidateParsedAsync(instance.Resource, instance.SourceMap, instance.Issues, options ?? ValidationOptions.Default, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ValidationResult> ValidateParsedAsync(Resource resource, SourceMap? map, IReadOnlyList<ParseIssue> parseIssues, ValidationOptions options, CancellationToken cancellationToken, ExternalTargets? fetched = null)
    {
        var root = resource.ToPocoNode(ModelInfo.ModelInspector);
        var run = new ValidationRun(options, map, _terminology, fetched) { RootType = resource.TypeName };
        run.AddParseIssues(parseIssues);
        if (resource is Bundle)
            run.Bundle = new BundleIndex(root);
        var profiles = options.Profiles.Concat(options.RequiredFor(resource.TypeName)).Distinct(StringComparer.Ordinal).ToList();
        await _walker.ValidateResourceAsync(root, InstancePath.ForResource(resource.TypeName), run, profiles, profilesAreRequired: true).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await BindingJudge.JudgeAsync(run, cancellationToken).ConfigureAwait(false);
        return run.ToResult();
    }
}
