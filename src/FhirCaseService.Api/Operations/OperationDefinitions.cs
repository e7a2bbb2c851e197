using FhirCaseService.Api.Http;
using FhirCaseService.Api.Security;
using FhirCaseService.CaseSeries.Mapping;
using Hl7.Fhir.Model;

namespace FhirCaseService.Api.Operations;

/// <summary>
/// The OperationDefinition resources of the operations this service adds (or narrows), served at
/// <c>/OperationDefinition/[id]</c> and referenced from the CapabilityStatement by their canonical URL.
/// </summary>
public static class OperationDefinitions
{
    public const string PatientEverythingId = "patient-everything";
    public const string ConvertCaseSeriesId = "convert-case-series";
    public const string ImportCaseSeriesId = "import-case-series";
    public const string CaseSeriesSummaryId = "case-series-summary";

    private const string RecordDocumentation =
        "The request body is the case-series record itself (application/json, the JSON Schema at /schemas/case-series.schema.json), not a Parameters resource.";

    public static string CanonicalOf(string id) => $"{FhirCaseCanonicals.Base}/OperationDefinition/{id}";

    public static IReadOnlyList<OperationDefinition> All { get; } =
    [
        Define(PatientEverythingId, "everything", "Patient everything",
            "The patient and every resource of its compartment, paged. Supports _since, _type and _count of the core operation; not start, end or _elements.",
            system: false, type: false, instance: true, resource: "Patient", affectsState: false,
            [
                In("_since", "instant", 0, "1", "Only resources changed at or after this instant."),
                In("_type", "string", 0, "1", "Comma-separated resource types to include."),
                In("_count", "integer", 0, "1", "Page size; follow the Bundle's next link for more."),
                Out("return", "Bundle", 1, "1", "A searchset Bundle: the patient first, then its compartment by type and id."),
            ],
            baseDefinition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
        Define(ConvertCaseSeriesId, "convert-case-series", "Convert a case series",
            "Converts a case-series record into the transaction Bundle of profiled resources, storing nothing. A record that breaks the input rules answers 400 with an OperationOutcome naming each field (expression), rule and line.",
            system: true, type: false, instance: false, resource: null, affectsState: false,
            [
                In("record", "Binary", 1, "1", RecordDocumentation),
                Out("return", "Bundle", 1, "1", "The transaction Bundle (PUT entries with deterministic ids)."),
            ]),
        Define(ImportCaseSeriesId, "import-case-series", "Import a case series",
            "Converts a case-series record, validates every generated resource and stores them in one transaction (all or nothing). Re-importing the same record changes nothing. Bad records answer 400; resources that fail validation answer 422 and nothing is stored.",
            system: true, type: false, instance: false, resource: null, affectsState: true,
            [
                In("record", "Binary", 1, "1", RecordDocumentation),
                Out("return", "Bundle", 1, "1", "The transaction-response Bundle: status, location and etag per entry."),
            ]),
        Define(CaseSeriesSummaryId, "case-series-summary", "Case-series cohort summary",
            "The cohort's headline numbers computed from the stored resources alone (all patients, or the members of one Group). JSON by default; a Parameters resource when Accept (or _format) asks for FHIR JSON or XML.",
            system: true, type: false, instance: false, resource: null, affectsState: false,
            [
                In("group", "string", 0, "1", "Id of a stored Group (a case series); without it every stored patient counts."),
                Out("patients", "integer", 1, "1", "Number of patients summarised."),
                Out("completeRemissionAfterFirstInoCycle", "integer", 1, "1", "Patients in complete remission after the first inotuzumab cycle."),
                Out("mrdNegativeAfterIno", "integer", 1, "1", "Patients MRD-negative after inotuzumab."),
                Out("fewestInoCyclesBeforeHsct", "integer", 0, "1", "Fewest inotuzumab cycles before HSCT among transplanted patients."),
                Out("mostInoCyclesBeforeHsct", "integer", 0, "1", "Most inotuzumab cycles before HSCT among transplanted patients."),
                Out("alloHsct", "integer", 1, "1", "Patients who received an allogeneic HSCT."),
                Out("meanFollowUpMonthsAfterHsctWithoutRelapse", "decimal", 0, "1", "Mean follow-up in months after HSCT of patients without relapse."),
                Out("carTIndication", null, 0, "*", "Count per CAR-T indication (parts: category, count)."),
                Out("postCarTRelapsePhenotype", null, 0, "*", "Count per phenotype of the relapse after CAR-T (parts: category, count)."),
                Out("statusAtLastFollowUp", null, 0, "*", "Count per disease status at last follow-up (parts: category, count)."),
                Out("isolatedExtramedullaryRelapseAfterHsct", null, 0, "*", "A patient whose relapse after HSCT was only extramedullary (parts: patient, monthsAfterHsct, site, radiotherapyBodySite, palliativeRadiotherapy, monthsFromLastRelapseToLastFollowUp, statusAtLastFollowUp)."),
                Out("patient", null, 0, "*", "Per-patient facts the numbers are made of (parts named as in the JSON form)."),
            ]),
    ];

    public static OperationDefinition? Find(string id) => All.FirstOrDefault(d => d.Id == id);

    private static OperationDefinition Define(string id, string code, string title, string description, bool system, bool type, bool instance,
        string? resource, bool affectsState, IEnumerable<OperationDefinition.ParameterComponent> parameters, string? baseDefinition = null) =>
        new()
        {
            Id = id,
            Url = CanonicalOf(id),
            Version = "0.1.0",
            Name = string.Concat(code.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..])),
            Title = title,
            Status = PublicationStatus.Active,
            Kind = OperationDefinition.OperationKind.Operation,
            Date = "2026-01-01",
            Publisher = "FhirCaseService",
            Description = description,
            AffectsState = affectsState,
            Code = code,
            Base = baseDefinition,
            Resource = resource is null ? [] : [Enum.Parse<ResourceType>(resource)],
            System = system,
            Type = type,
            Instance = instance,
            Parameter = [.. parameters],
        };

    private static OperationDefinition.ParameterComponent In(string name, string? type, int min, string max, string documentation) =>
        Parameter(OperationParameterUse.In, name, type, min, max, documentation);

    private static OperationDefinition.ParameterComponent Out(string name, string? type, int min, string max, string documentation) =>
        Parameter(OperationParameterUse.Out, name, type, min, max, documentation);

    private static OperationDefinition.ParameterComponent Parameter(OperationParameterUse use, string name, string? type, int min, string max, string documentation) =>
        new()
        {
            Name = name,
            Use = use,
            Min = min,
            Max = max,
            Documentation = documentation,
            Type = type is null ? null : Enum.Parse<FHIRAllTypes>(type, ignoreCase: true),
        };
}

/// <summary>Serves the <see cref="OperationDefinitions"/> (read and a plain list).</summary>
public static class OperationDefinitionEndpoints
{
    public static IEndpointRouteBuilder MapOperationDefinitions(this IEndpointRouteBuilder app)
    {
        app.MapGet("/OperationDefinition/{id}", Read).WithName("ReadOperationDefinition").WithTags("Operations")
            .WithSummary("One OperationDefinition of the operations this server adds.")
            .AllowPublicAccess();
        app.MapGet("/OperationDefinition", List).WithName("SearchOperationDefinition").WithTags("Operations")
            .WithSummary("Every OperationDefinition of the operations this server adds, as a searchset Bundle.")
            .AllowPublicAccess();
        return app;
    }

    private static FhirResult Read(string id) =>
        OperationDefinitions.Find(id) is { } definition
            ? new FhirResult(definition)
            : OperationOutcomes.NotFound($"OperationDefinition/{id} is not defined by this server.");

    private static FhirResult List(HttpRequest request)
    {
        var baseUrl = Search.SearchRequest.BaseUrl(request);
        var bundle = new Bundle { Type = Bundle.BundleType.Searchset, Total = OperationDefinitions.All.Count };
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = $"{baseUrl}/OperationDefinition" });
        foreach (var definition in OperationDefinitions.All)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/OperationDefinition/{definition.Id}",
                Resource = definition,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Match },
            });
        return new FhirResult(bundle);
    }
}
