using System.Globalization;
using System.Text;

namespace FhirCaseService.Validation.Tests;

/// <summary>
/// Renders docs/validation-conformance.md from a suite run: the agreement table, per module, the skipped cases with
/// their reason, why we knowingly differ per category, every disagreement, and the examples' known gaps.
/// </summary>
/// <summary>A category of disagreement with the reference validator, the cases it covers and why.</summary>
public sealed record ConformanceDifference(string Category, IReadOnlyList<string> Cases, string Reason);

public static class ConformanceDocument
{
    public const string RegenerateCommand =
        "FHIRCASE_WRITE_CONFORMANCE_DOC=1 dotnet test tests/FhirCaseService.Validation.Tests --filter FullyQualifiedName~ConformanceSuiteTests";

    public static string FilePath => Path.Combine(ConformanceSuite.RepositoryRoot(), "docs", "validation-conformance.md");

    /// <summary>
    /// Why we differ from the reference validator, by category, with the cases each explains. Differences by design
    /// or by scope (checks we chose not to implement); the rendering lists only the cases that still disagree.
    /// </summary>
    public static IReadOnlyList<ConformanceDifference> KnownDifferences { get; } =
    [
        new("Unknown extensions and example URLs",
            ["pat-example-extensions", "extension-version-restriction-range-r4", "extension-version-restriction-range-ctxt-r4", "no/Person-test", "no/Person-test-bad", "profile-patient-op1"],
            "The suite runs with `ValidationOptions.Reference` (the CLI's default): an extension whose definition cannot be found is an error outside the allowed domains (HL7's own namespace, whose extensions the reference validator loads from the HL7 extensions package, and the case's `allowed-extension-domain`); extensions on the example hosts (example.org, acme.com) are accepted, modifier extensions too, as the reference validator does with examples allowed (its harness's default). Some cases rely on definitions the reference test harness had loaded that the case does not list (version-range), and `pat-example-extensions` was run by the reference harness with examples disallowed (an option the case list does not carry), where example.org URLs are errors. `profile-patient-op1` uses http://hl7.org/fhir/StructureDefinition/obligation-profile, in HL7's namespace but not in the extensions package the reference harness loaded, so it reports it unknown where we accept the namespace."),
        new("Extension definitions as definitions",
            ["ext-derived", "patient-extension-complex-bad1"],
            "Extension context, contextInvariant, absolute Extension.url and Resource.id without extensions are checked as the reference validator does. A StructureDefinition is checked against its base as its StructureDefinitionValidator does (derivation stated, kind kept, and a differential fixed[x]/pattern[x] may not change a value the base fixes, so a derived extension keeps its base's url); we locate that finding on the differential's fixed[x], the reference validator on the element's path (`Extension.url`). The context of a sub-extension that names a second definition (bodySite inside patient-animal) is checked against the core R4 definition, whose context is Element; the reference harness loads the HL7 extensions package's later bodySite, whose contexts exclude Patient.extension."),
        new("Bundle rules written in the specification's prose",
            ["bundle-duplicate-id", "bundle-india", "bundle-india-bad", "bundle-duplicate-ids-not", "bundle-dual-target", "relative_reference_to_fullUrl.id_in_target_resource", "bundle-document-versioned-references-bad", "bundle-id-4", "bundle-bad-by-param", "bad-bundle-reference-type-4", "bundle-enrl"],
            "We apply the prose rules as the reference validator does (fullUrl absolute and matching a RESTful type/id, fullUrl required outside transactions and batches, search links, search modes, document and message shape, document references resolved by the fullUrl rules, every document entry reachable and, in messages, every entry linked (unreachable ones warned), references meaning a fullUrl two entries share). Under `ValidationOptions.Reference` the findings are located as the reference validator locates them (every fullUrl finding at `Bundle.entry[0]`, document-rule findings with indexes counted from 1); line, column and `IssueLocation.Entry` name the entry concerned, and the server's options name it in the expression too. A relative reference that meets a urn:uuid entry of another type is an error. Narrative hyperlinks to other entries resolve as the reference validator resolves them (see XHTML content). An entry two slices admit is an error at the entry, an unknown profile of an entry's type is reported twice (as the element's type profile and as the resource's), and a Reference.type must be an allowed target and the referenced type. Not done: entries validated against profiles a validator parameter names (`bundle-bad-by-param`); in `bundle-enrl` the reference validator also checks coding displays against the code system (terminology we do not have), one error."),
        new("XHTML content",
            ["list-xhtml-empty", "ips-htmlrefs-backwards"],
            "Profiles' narrative-language-control (language sections prohibited, required, or required for the resource language) is checked as the reference validator does. txt-1 (element and attribute names) and txt-2 (some content) are checked separately, and the XHTML itself as the reference validator checks it (well-formed, a root div in the XHTML namespace, no block inside a paragraph), for text and SDK objects alike; the FHIR narrative schema's datatypes are not applied, so id values that are not XML IDs are accepted, as the reference validator accepts them. uri, url and canonical literals are judged by the reference validator's rules, not .NET's URI parser, so narrativeLink values (`urn:uuid:...#AllergyIntolerance-urn:uuid:...`) are valid; an extension's value of a disallowed type is reported at the extension; and in documents a link with a fragment must name one id in its entry (none is an error for narrativeLink), reported at `Bundle` (`ips-htmlrefs-backwards`). Narrative hyperlinks are checked as the reference validator checks them: `#name` must be an element id, XHTML id or anchor name in the resource or else in a Bundle holding it; empty hrefs, script (javascript:, vbscript:) and urn:/cid: links are errors."),
        new("Checks on conformance resources as definitions",
            ["StructureDefinition-Slice23", "obs-mz", "opdef-params"],
            "The reference validator also validates a StructureDefinition or OperationDefinition as a definition (snapshot generation errors, slicing redefinitions, parameter profiles). We validate them as instances of their resource type and check a StructureDefinition against its base (derivation, kind, fixed values kept); snapshot generation errors, slicing redefinitions and parameter profiles are not checked, profile authoring being checked in our own package tests."),
        new("Special-purpose checks: XML entities, limits given as a Quantity, invariants with slices",
            ["patient-value-alternative-bad", "patient-value-present-bad", "xml-bad-entities", "toplevel-maxvalueduration-fail", "toplevel-minvalueduration-fail", "res-inv-example-bad", "inv-checks", "document-bad-no-sections", "no/Person-test-bad"],
            "XML that is not well-formed with DOCTYPE disallowed (undeclared entities) is one fatal issue, and min/max values given as a Quantity are read as the reference validator reads them (on a Quantity in the limit's unit, UCUM units converted; on a date as a span of time from today); the reference validator's expected outcome for the Duration cases lists no issue, so their locations cannot agree. A Reference whose children a profile constrains keeps its aggregation and target checks (`res-inv-example-bad`). Some invariant and slice combinations the reference validator reports once per element and we once per rule."),
        new("Vital signs profiles implied by the code, and the definitions they come from",
            ["obs-temp-bad", "obs-percent"],
            "An Observation whose code names a vital sign (LOINC or SNOMED CT, by the reference validator's table) is validated against that sign's R4 profile whether or not it declares it, with an information signpost, as the reference validator does (the specification's 'SHALL conform'). Our R4 definitions (the official specification.zip) bind `Observation.component.value[x]` of the vital signs profiles to ucum-vitals-common as required; the reference harness's package treats that binding as extensible (a warning for an L/min flow rate inside an oxygen saturation, `obs-percent`), so there we report an error it does not."),
        new("Date comparisons of different precision",
            ["encounter-period", "test-ndjson"],
            "per-1 compares Period.start `2023-06-21` with end `2023-06-21T06:20:00Z`; FHIRPath gives empty for values of different precision. A constraint with an ordering comparison that evaluates to empty fails, as in the reference validator; other constraints that evaluate to empty do not apply."),
    ];

    /// <summary>Differences that are defects of our engine, not choices; listed so they are fixed rather than forgotten.</summary>
    public static IReadOnlyList<ConformanceDifference> KnownDefects { get; } =
    [
        new("Locations of parser findings",
            ["ai5", "ai8", "attachment-tx", "empty-array", "Observation-ex-pain.xml", "patient-id-only", "comments-4", "hakan-se-nofetch", "patient-min-fixed1", "patient-min-none1", "patient-min-pattern1", "bundle-ihe-good", "bundle-validation-location-1.xml", "bundle-validation-location-2.xml"],
            "Parser findings are located as the reference validator's parsers locate them (issue 13): an empty JSON array at the array itself; under `ValidationOptions.Reference` an unknown element or property on the element holding it, an unknown attribute on its element, and on XML input every finding about the XML's shape by the element's XML path (`/f:Observation/f:status`). XML the SDK's reader cannot map (a `<value>` element inside a primitive) is no longer one fatal issue: the element is reported where the reference validator reports it, left out, and the rest validated; a primitive without value, extensions or id fails ele-1 and the reference validator's primitive check (`Observation-ex-pain.xml`), one with only an id ele-1 alone (`patient-id-only`). Every parser finding is rooted at the resource type with its full path (a nested resource from its container, `Bundle.entry[i].resource.x`; a `$this` root the SDK keeps is replaced by the type), and a problem the parser and the walk both see is reported once: a disallowed choice or resource type in the walk's words, a JSON primitive where an object or resource belongs and a nested resource without resourceType in the parser's, an element's different problems each once. `attachment-tx` reports invalid base64 on `Attachment.data` where the reference validator reports it on the Attachment. Cardinality findings (missing, forbidden, slice counts) sit on the parent element, as in the reference validator; where it validates an element against a profile and against its base it reports the same cardinality twice, we once."),
        new("References resolved outside the instance",
            ["patient-circle1-bad-linked1", "patient-circle1-bad-source1", "patient-circle2-bad-linked", "patient-circle2-bad-source1", "patient-circle2-bad-source2", "aggregation-bundle-bad4"],
            "With `validateReference` the reference validator fetches the resource a reference names (Patient/patient-circle1-bad-target) from its harness and checks it against the target profile; those resources are not in the dev set and our engine resolves references only inside the resource and the Bundle, so these links are not checked."),
        new("Contained resources, profile alternatives and slices",
            ["contained-resource-bad-id-ignore", "parameters-profiled-resource-multiple", "no/Person-test-bad", "profile-slicing-multipleb", "medstmt-ips", "test-input-params-example1"],
            "Contained resources: dom-3 is a warning and a reference `#` to the container satisfies ref-1, as in the reference validator; it does not report an over-long id of a contained resource, we do. Several profiles on one type are alternatives (one must be met; when none is, each one's findings are reported); a profile whose differential names an element the base lacks (`parameters-profiled-resource-multiple`) still constrains that element with us. Slicing by profile on `$this.resource` assigns entries by their resource, and a type discriminator through `ofType(X).resolve()` by the referenced type. In `test-input-params-example1` the reference validator checks an item of slice param1 against both the slice and the unsliced element (max 0 on extension and modifierExtension, each twice); we check it against its slice."),
    ];

    /// <summary>Every case named in a known difference or defect, for the test that keeps these lists honest.</summary>
    public static IEnumerable<string> CasesNamed => KnownDifferences.Concat(KnownDefects).SelectMany(d => d.Cases);

    public static string Render(ConformanceSuite suite, IReadOnlyList<ConformanceStepResult> results, TimeSpan elapsed, ConformanceBaseline baseline)
    {
        var text = new StringBuilder();
        var run = results.Where(r => r.Verdict != ConformanceVerdict.Skipped).ToList();
        text.Append("# Validator conformance: agreement with the HL7 reference validator\n\n");
        text.Append("Generated by `tests/FhirCaseService.Validation.Tests/ConformanceSuiteTests.cs`; do not edit by hand. Regenerate with\n\n");
        text.Append("```\n").Append(RegenerateCommand).Append("\n```\n\n");
        text.Append("The suite is `shared/conformance/fhir-test-cases` (R4 cases of FHIR/fhir-test-cases `validator/`, with the ")
            .Append("outcome the HL7 Java reference validator expects; see its README). Each case is validated by our engine ")
            .Append("with core R4 and the case's supporting files loaded (and, for the profile step, the profile and its ")
            .Append("supporting files, validating against that profile). A step **agrees on count** when we report the same ")
            .Append("number of errors (error or fatal), 0 vs 0 included; it **agrees on locations** when, in addition, the ")
            .Append("error locations (FHIRPath `expression`, the reference validator's `/*Type/id*/` comments removed, and its `null`/`None` ")
            .Append("and our `(document)` for \"no location\" taken as one) are the same ")
            .Append("multiset. Message texts differ by design. An engine exception or a step over ")
            .Append(ConformanceRunner.StepTimeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture))
            .Append(" s counts as disagreement.\n\n");

        text.Append("## Agreement\n\n");
        text.Append("| | cases | steps | run | agree on count | agree on locations | engine failures | skipped |\n");
        text.Append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        text.Append(Row("**all**", results));
        foreach (var module in results.Select(r => r.Module).Distinct().Order(StringComparer.Ordinal))
            text.Append(Row(module, results.Where(r => r.Module == module).ToList()));
        text.Append('\n');
        // The headline divides by every step of the suite: a skipped step is a step on which we did not agree, so
        // skipping a case can never raise the figure.
        text.Append(CultureInfo.InvariantCulture, $"**Agreement on count: {Percent(results.Count(r => r.AgreesOnCount), results.Count)} of all steps** (skipped steps counted as disagreements); ")
            .Append(CultureInfo.InvariantCulture, $"**on locations: {Percent(results.Count(r => r.AgreesOnLocations), results.Count)}**. ")
            .Append(CultureInfo.InvariantCulture, $"Of the steps run: {Percent(run.Count(r => r.AgreesOnCount), run.Count)} on count, {Percent(run.Count(r => r.AgreesOnLocations), run.Count)} on locations. ")
            .Append(CultureInfo.InvariantCulture, $"Recorded floor (conformance-baseline.json): {baseline.StepsAgreeingOnCount} steps on count, {baseline.StepsAgreeingOnLocations} on locations. ")
            .Append(CultureInfo.InvariantCulture, $"Whole run: {elapsed.TotalSeconds:0.0} s on the development machine ({suite.Cases.Count} cases).\n\n");

        text.Append("## Skipped, with reason\n\n");
        var skipped = results.Where(r => r.Verdict == ConformanceVerdict.Skipped).ToList();
        if (skipped.Count == 0)
            text.Append("None.\n");
        foreach (var group in skipped.GroupBy(r => r.Detail))
            text.Append("- ").Append(group.Key).Append(": ").Append(string.Join(", ", group.Select(r => $"`{r.Case}` ({r.Step})"))).Append('\n');
        text.Append('\n');

        var disagreeing = run.Where(r => !r.AgreesOnLocations).Select(r => r.Case).ToHashSet(StringComparer.Ordinal);
        text.Append("## Why we knowingly differ\n\n");
        AppendDifferences(text, KnownDifferences, disagreeing);
        text.Append('\n');
        text.Append("## Known defects of our engine\n\n");
        AppendDifferences(text, KnownDefects, disagreeing);
        var unexplained = disagreeing.Except(CasesNamed, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (unexplained.Count > 0)
            text.Append("- **Not yet analysed**: ").Append(string.Join(", ", unexplained.Select(c => $"`{c}`"))).Append('\n');
        text.Append('\n');

        text.Append("## Disagreements\n\n");
        text.Append("| case | module | step | verdict | expected errors | our errors | expected locations | our locations / detail |\n");
        text.Append("|---|---|---|---|---:|---:|---|---|\n");
        foreach (var result in run.Where(r => !r.AgreesOnLocations).OrderBy(r => r.Module, StringComparer.Ordinal).ThenBy(r => r.Case, StringComparer.Ordinal).ThenBy(r => r.Step, StringComparer.Ordinal))
        {
            text.Append("| `").Append(result.Case).Append("` | ").Append(result.Module).Append(" | ").Append(result.Step)
                .Append(" | ").Append(VerdictText(result.Verdict))
                .Append(" | ").Append(result.ExpectedErrors)
                .Append(" | ").Append(result.ActualErrors?.ToString(CultureInfo.InvariantCulture) ?? "-")
                .Append(" | ").Append(Cell(string.Join(", ", result.ExpectedLocations.Select(l => l.Length == 0 ? "(none)" : l))))
                .Append(" | ").Append(Cell(result.Detail ?? string.Empty))
                .Append(" |\n");
        }
        text.Append('\n');

        text.Append("## Examples: known gaps\n\n");
        text.Append("`ExamplesTests` requires every file in `examples/bundles` and `examples/resources` to validate with no error ")
            .Append("against core R4 and our package, and every file in `examples/invalid` to fail with exactly the error its ")
            .Append("`.expected.json` sidecar names (rule, severity, expression) and no other error. These files do not yet behave ")
            .Append("so with our engine; the test requires them to keep failing, so that fixing one forces its removal from the ")
            .Append("list in `conformance-baseline.json`:\n\n");
        if (baseline.ExampleKnownGaps.Count == 0)
            text.Append("None.\n");
        foreach (var (file, reason) in baseline.ExampleKnownGaps.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append("- `").Append(file).Append("`: ").Append(reason).Append('\n');
        return text.ToString();
    }

    private static void AppendDifferences(StringBuilder text, IReadOnlyList<ConformanceDifference> differences, IReadOnlySet<string> disagreeing)
    {
        foreach (var difference in differences)
        {
            var cases = difference.Cases.Where(disagreeing.Contains).ToList();
            text.Append("- **").Append(difference.Category).Append("** (")
                .Append(cases.Count == 0 ? "all its cases now agree" : string.Join(", ", cases.Select(c => $"`{c}`")))
                .Append("): ").Append(difference.Reason).Append('\n');
        }
    }

    private static string Row(string label, IReadOnlyList<ConformanceStepResult> results)
    {
        var run = results.Where(r => r.Verdict != ConformanceVerdict.Skipped).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {results.Select(r => r.Case).Distinct().Count()} | {results.Count} | {run.Count} | {run.Count(r => r.AgreesOnCount)} | {run.Count(r => r.AgreesOnLocations)} | {run.Count(r => r.Verdict == ConformanceVerdict.EngineFailure)} | {results.Count - run.Count} |\n");
    }

    private static string Percent(int part, int whole) =>
        whole == 0 ? "0/0" : string.Create(CultureInfo.InvariantCulture, $"{part}/{whole} ({100.0 * part / whole:0.0} %)");

    private static string VerdictText(ConformanceVerdict verdict) => verdict switch
    {
        ConformanceVerdict.LocationsDiffer => "locations differ",
        ConformanceVerdict.CountDiffers => "count differs",
        ConformanceVerdict.EngineFailure => "engine failure",
        _ => verdict.ToString(),
    };

    // Table cells: one line, no pipes, and a bounded length so the page stays readable.
    private static string Cell(string text)
    {
        var oneLine = text.ReplaceLineEndings(" ").Replace("|", "\\|", StringComparison.Ordinal);
        return oneLine.Length <= 300 ? oneLine : oneLine[..300] + "…";
    }
}
