using FhirCaseService.Conformance;
using FhirCaseService.Conformance.Packages;
using FhirCaseService.Conformance.Serialization;
using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Validation.Tests;

public enum ConformanceVerdict
{
    /// <summary>Same number of errors and the same error locations.</summary>
    Agree,
    /// <summary>Same number of errors, different locations.</summary>
    LocationsDiffer,
    /// <summary>A different number of errors.</summary>
    CountDiffers,
    /// <summary>Our engine (or loading the case's definitions) threw or ran out of time: counted as disagreement.</summary>
    EngineFailure,
    /// <summary>The case needs a validator option we do not implement; not run.</summary>
    Skipped,
}

/// <summary>The comparison of one step (base or profile) of one case.</summary>
public sealed record ConformanceStepResult(
    string Case,
    string Module,
    string Step,
    ConformanceVerdict Verdict,
    int ExpectedErrors,
    int? ActualErrors,
    IReadOnlyList<string> ExpectedLocations,
    IReadOnlyList<string> ActualLocations,
    string? Detail)
{
    public bool AgreesOnCount => Verdict is ConformanceVerdict.Agree or ConformanceVerdict.LocationsDiffer;

    public bool AgreesOnLocations => Verdict == ConformanceVerdict.Agree;
}

/// <summary>
/// Runs conformance cases through our engine, each case isolated: its definitions are loaded into a context of its
/// own (core R4 + the case's supporting files, as a package folder), and anything that goes wrong in one case is
/// recorded as that case's disagreement, never the end of the run.
/// </summary>
public sealed class ConformanceRunner(ConformanceSuite suite, Func<ConformanceContext, IResourceValidator> createValidator)
{
    /// <summary>Options whose reference-validator behaviour changes which errors are reported and that our engine does not have.</summary>
    public static IReadOnlyDictionary<string, string> UnsupportedOptions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["security-checks"] = "security-checks: the reference validator's extra security checks on narrative and strings are not implemented",
    };

    /// <summary>A case that takes longer than this is treated as an engine failure so one runaway case cannot stall the suite.</summary>
    public static TimeSpan StepTimeout { get; } = TimeSpan.FromSeconds(30);

    // Supporting files are definitions to load, not instances under test: read them as leniently as the SDK allows.
    private static readonly BaseFhirJsonDeserializer LenientJson = new FhirJsonDeserializer(new DeserializerSettings().UsingMode(DeserializationMode.Ostrich));
    private static readonly BaseFhirXmlDeserializer LenientXml = new FhirXmlDeserializer(new DeserializerSettings().UsingMode(DeserializationMode.Ostrich));

    public async Task<IReadOnlyList<ConformanceStepResult>> RunAllAsync(CancellationToken cancellationToken = default)
    {
        var results = new IReadOnlyList<ConformanceStepResult>[suite.Cases.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, suite.Cases.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (index, _) => results[index] = await RunCaseAsync(suite.Cases[index]).ConfigureAwait(false)).ConfigureAwait(false);
        return results.SelectMany(r => r).ToList();
    }

    public async Task<IReadOnlyList<ConformanceStepResult>> RunCaseAsync(ConformanceCase testCase)
    {
        var steps = new List<(string Name, ConformanceExpectation Expected)> { ("base", testCase.Expected.Base) };
        if (testCase.Profile is not null && testCase.Expected.Profile is not null)
            steps.Add(("profile", testCase.Expected.Profile));

        var unsupported = (testCase.Options ?? []).Keys.FirstOrDefault(UnsupportedOptions.ContainsKey);
        if (unsupported is not null)
            return steps.Select(s => Result(testCase, s.Name, s.Expected, ConformanceVerdict.Skipped, null, [], UnsupportedOptions[unsupported])).ToList();

        var results = new List<ConformanceStepResult>();
        foreach (var (name, expected) in steps)
            results.Add(await RunStepAsync(testCase, name, expected).ConfigureAwait(false));
        return results;
    }

    private async Task<ConformanceStepResult> RunStepAsync(ConformanceCase testCase, string step, ConformanceExpectation expected)
    {
        var definitions = step == "base"
            ? testCase.Supporting
            : [.. testCase.Supporting, testCase.Profile!.Source, .. testCase.Profile.Supporting];
        var folder = Path.Combine(Path.GetTempPath(), $"fhircase-conformance-{Guid.NewGuid():N}");
        try
        {
            var context = BuildContext(definitions, folder);
            var validator = createValidator(context);
            // The reference validator is a command-line tool: compare it with our CLI's choices.
            var options = ValidationOptions.Reference;
            if (testCase.Options?.TryGetValue("allowed-extension-domain", out var domain) == true && domain.GetString() is { } allowed)
                options = options with { AllowedExtensionDomains = [.. options.AllowedExtensionDomains, allowed] };
            if (step == "profile")
                options = options with { Profiles = [CanonicalOf(testCase.Profile!.Source)] };
            if (testCase.Options?.TryGetValue("validateReference", out var policy) == true && policy.GetString() == "CHECK_VALID")
                options = options with { ReferenceResolver = new CaseFileResolver(suite, definitions) };

            // Task.Run so that an engine which works synchronously inside ValidateAsync is still bounded by the timeout.
            var validation = Task.Run(() => ValidateFileAsync(validator, suite.FilePath(testCase.File), options));
            var issues = await validation.WaitAsync(StepTimeout).ConfigureAwait(false);
            DumpIssues(testCase, step, issues);
            var errors = issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal).ToList();
            var locations = errors.Select(e => ConformanceExpressions.Normalize(e.Location.Expression)).ToList();
            var verdict = errors.Count != expected.Errors ? ConformanceVerdict.CountDiffers
                : ConformanceExpressions.SameLocations(expected.ErrorExpressions, locations) ? ConformanceVerdict.Agree
                : ConformanceVerdict.LocationsDiffer;
            var detail = verdict == ConformanceVerdict.Agree ? null : string.Join(" | ", errors.Select(e => $"{e.Rule}@{e.Location.Expression}: {e.Message}"));
            return Result(testCase, step, expected, verdict, errors.Count, locations, detail);
        }
        catch (TimeoutException)
        {
            return Result(testCase, step, expected, ConformanceVerdict.EngineFailure, null, [], $"no result within {StepTimeout.TotalSeconds:0} s");
        }
        catch (Exception e)
        {
            return Result(testCase, step, expected, ConformanceVerdict.EngineFailure, null, [], $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// With FHIRCASE_CONFORMANCE_DUMP set to a folder, every issue of every step (all severities) is written to
    /// {case}-{step}.txt there, one per line, for comparing a case with the reference validator's expected outcome.
    /// </summary>
    private static void DumpIssues(ConformanceCase testCase, string step, IReadOnlyList<ValidationIssue> issues)
    {
        if (Environment.GetEnvironmentVariable("FHIRCASE_CONFORMANCE_DUMP") is not { Length: > 0 } folder)
            return;
        Directory.CreateDirectory(folder);
        var name = string.Concat($"{testCase.Name}-{step}".Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        File.WriteAllLines(Path.Combine(folder, name + ".txt"),
            issues.Select(i => $"{i.Severity}\t{i.Rule}\t{i.Location.Expression}\t{i.Message}"));
    }

    private static ConformanceStepResult Result(ConformanceCase testCase, string step, ConformanceExpectation expected,
        ConformanceVerdict verdict, int? actualErrors, IReadOnlyList<string> actualLocations, string? detail) =>
        new(testCase.Name, testCase.Module, step, verdict, expected.Errors, actualErrors, expected.ErrorExpressions, actualLocations, detail);

    /// <summary>
    /// Core R4 plus the case's definitions. The Conformance layer reads packages as folders of JSON resources, so the
    /// case's files are written into a fresh folder, XML ones converted to JSON first.
    /// </summary>
    private ConformanceContext BuildContext(IReadOnlyList<string> definitions, string folder)
    {
        var builder = ConformanceContext.CreateBuilder();
        if (definitions.Count == 0)
            return builder.Build();
        Directory.CreateDirectory(folder);
        for (var i = 0; i < definitions.Count; i++)
        {
            var resource = ReadResource(suite.FilePath(definitions[i]));
            File.WriteAllText(Path.Combine(folder, $"{i:D3}-{resource.TypeName}.json"), FhirSerialization.ToJson(resource));
        }
        return builder.AddPackage(folder).Build();
    }

    private string CanonicalOf(string fileName) =>
        ReadResource(suite.FilePath(fileName)) is IVersionableConformanceResource { Url: { } url }
            ? url
            : throw new InvalidOperationException($"{fileName} has no canonical url");

    private static Resource ReadResource(string path)
    {
        var text = File.ReadAllText(path);
        return path.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)
            ? LenientXml.DeserializeResource(text)
            : LenientJson.DeserializeResource(text);
    }

    /// <summary>JSON and XML hold one resource; NDJSON one per line, validated one by one.</summary>
    private static async Task<IReadOnlyList<ValidationIssue>> ValidateFileAsync(IResourceValidator validator, string path, ValidationOptions options)
    {
        var text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
        if (path.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
            return (await validator.ValidateAsync(text, ResourceFormat.Xml, options).ConfigureAwait(false)).Issues;
        if (!path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase))
            return (await validator.ValidateAsync(text, ResourceFormat.Json, options).ConfigureAwait(false)).Issues;

        var issues = new List<ValidationIssue>();
        foreach (var line in text.Split('\n').Where(l => !string.IsNullOrWhiteSpace(l)))
            issues.AddRange((await validator.ValidateAsync(line, ResourceFormat.Json, options).ConfigureAwait(false)).Issues);
        return issues;
    }

    /// <summary>
    /// What the reference validator's test harness fetches for a reference (its fetcher, used with validateReference):
    /// the case's supporting resources by type and id, then a file of the suite named after the reference
    /// ("Patient/x" as patient-x.json/.xml, then x.json/.xml), as the harness names its fetchable files.
    /// </summary>
    private sealed class CaseFileResolver(ConformanceSuite suite, IReadOnlyList<string> supporting) : IReferenceResolver
    {
        private readonly Lazy<InMemoryReferenceResolver> _supporting = new(() => new InMemoryReferenceResolver(supporting.Select(f => ReadResource(suite.FilePath(f)))));

        public async ValueTask<Resource?> ResolveAsync(string reference, CancellationToken cancellationToken = default)
        {
            if (await _supporting.Value.ResolveAsync(reference, cancellationToken).ConfigureAwait(false) is { } found)
                return found;
            if (ResourceAddress.Parse(reference) is not { } address)
                return null;
            foreach (var name in new[] { $"{address.Type}-{address.Id}", address.Id })
            {
                foreach (var extension in new[] { ".json", ".xml" })
                {
                    var path = suite.FilePath(name.ToLowerInvariant() + extension);
                    if (File.Exists(path) && ReadResource(path) is { } resource && resource.TypeName == address.Type && resource.Id == address.Id)
                        return resource;
                }
            }
            return null;
        }
    }
}
