using System.Globalization;
using System.Xml.Linq;
using FhirCaseService.Api.Security;
using FhirCaseService.CaseSeries.Summary;
using FhirCaseService.Conformance;
using FhirCaseService.Storage;
using Hl7.Fhir.Model;
using static FhirCaseService.Api.App.PageLayout;

namespace FhirCaseService.Api.App;

/// <summary>
/// The pages for people (docs/pages.md): the cohort's swimmer plot at <c>/app/</c>, one patient at
/// <c>/app/patients/{id}</c>, and the validator at <c>/app/validate</c>. HTML and SVG are made on the server from the
/// stored resources; the browser runs two small scripts of ours (PNG download, validator) and nothing else.
/// </summary>
public static class AppEndpoints
{
    public const string CohortPath = "/app/";
    public const string ValidatorPath = "/app/validate";
    public const string SwimmerSvgPath = "/app/swimmer.svg";
    private const string AssetPrefix = "/app/assets/";
    private const string AssetResourcePrefix = "fhircase-app/";

    /// <summary>
    /// The pages' Content-Security-Policy: scripts, styles, images and requests from this origin only, no inline script or
    /// style, no plugins, forms submit only here, no framing. The plot is SVG with presentation attributes, which the
    /// policy allows; the PNG is drawn from the same-origin SVG, so neither data: nor blob: images are needed.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> AssetTypes = new(StringComparer.Ordinal)
    {
        [".css"] = "text/css; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>Swimmer rows on one cohort page (<c>App:PatientsPerPage</c>): a plot a reader can follow, and a page that stays small.</summary>
    public const int DefaultPatientsPerPage = 50;

    public const string PatientsPerPageSetting = "App:PatientsPerPage";

    public static bool IsPagePath(PathString path) => path.StartsWithSegments("/app", StringComparison.Ordinal);

    public static string PatientPath(string patientId) => "/app/patients/" + Uri.EscapeDataString(patientId);

    public static string AssetPath(string name) => AssetPrefix + name;

    /// <summary>
    /// The validator page follows <c>$validate</c>'s rule (any authenticated client). The data pages are mapped only while
    /// authorization is off: a browser holds no SMART Backend Services token, so with authorization on they answer 404
    /// rather than show data a caller could not read through the API. They carry the summary's access rule all the same.
    /// </summary>
    public static IEndpointRouteBuilder MapCaseSeriesPages(this IEndpointRouteBuilder app)
    {
        var pages = app.MapGroup("/app").ExcludeFromDescription();
        pages.MapGet("/validate", (ConformanceContext context) => Page(ValidatorPage.Render(ValidatorPage.Profiles(context))))
            .RequireClient();
        pages.MapGet("/assets/{name}", GetAsset)
            .AllowPublicAccess();

        if (app.ServiceProvider.GetRequiredService<IFhirAccess>().Enabled)
            return app;
        pages.MapGet("/", CohortAsync)
            .RequireFhirAccessToEach(ScopePermissions.Search, StoredCohortReader.SummaryTypes)
            .RequireFhirAccess(ScopePermissions.Read, "Group");
        pages.MapGet("/swimmer.svg", SwimmerSvgAsync)
            .RequireFhirAccessToEach(ScopePermissions.Search, StoredCohortReader.SummaryTypes)
            .RequireFhirAccess(ScopePermissions.Read, "Group");
        pages.MapGet("/patients/{id}", PatientAsync)
            .RequireFhirAccess(ScopePermissions.Read, "Patient")
            .RequireFhirAccessToEach(ScopePermissions.Search, StoredCohortReader.SummaryTypes);
        return app;
    }

    private static async Task<IResult> CohortAsync(string? group, string? page, IResourceStore store, CohortSummaryCache cache, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var reader = new StoredCohortReader(store);
        var groups = await reader.GroupsAsync(cancellationToken);
        if (!TryChoose(groups, group, out var chosen))
            return NotFoundPage($"No case series (Group) with id \"{group}\" is stored.");
        var shown = await TimelineAsync(reader, cache, chosen, page, PatientsPerPage(configuration), cancellationToken);
        return shown is null
            ? NotFoundPage($"No page \"{page}\" of this case series: pages are numbered from 1 to the last the page links to.")
            : Page(CohortPage.Render(groups, chosen, shown));
    }

    /// <summary>The cohort's plot as a standalone SVG file (one page of patients): the PNG download draws it, <c>?download=1</c> saves it.</summary>
    private static async Task<IResult> SwimmerSvgAsync(string? group, string? page, string? download, HttpContext context, IResourceStore store,
        CohortSummaryCache cache, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var reader = new StoredCohortReader(store);
        if (!TryChoose(await reader.GroupsAsync(cancellationToken), group, out var chosen))
            return NotFoundPage($"No case series (Group) with id \"{group}\" is stored.");
        var shown = await TimelineAsync(reader, cache, chosen, page, PatientsPerPage(configuration), cancellationToken);
        if (shown is null)
            return NotFoundPage($"No page \"{page}\" of this case series.");
        var svg = SwimmerPlot.Render(shown.Timeline.Patients, $"{CohortPage.Title(chosen)}: swimmer plot", patientLink: null);
        if (download is "1" or "true")
            context.Response.Headers.ContentDisposition = "attachment; filename=\"swimmer-plot.svg\"";
        return TypedResults.Text("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + svg.ToString(SaveOptions.DisableFormatting), "image/svg+xml; charset=utf-8");
    }

    /// <summary>The asked Group, else the first stored one, else none (all stored patients); false when the asked one is not stored.</summary>
    private static bool TryChoose(IReadOnlyList<Group> groups, string? asked, out Group? chosen)
    {
        chosen = string.IsNullOrEmpty(asked) ? groups.FirstOrDefault() : groups.FirstOrDefault(g => g.Id == asked);
        return string.IsNullOrEmpty(asked) || chosen is not null;
    }

    /// <summary>
    /// The headline numbers over the whole cohort and the plot's events for one page of its patients (in the summary's
    /// order): a cohort of thousands is drawn a page at a time, so the page stays small whatever the cohort's size.
    /// Null when <paramref name="page"/> is not a page number of this cohort.
    /// </summary>
    private static async Task<CohortPageView?> TimelineAsync(StoredCohortReader reader, CohortSummaryCache cache, Group? group, string? page,
        int patientsPerPage, CancellationToken cancellationToken)
    {
        var number = 1;
        if (!string.IsNullOrEmpty(page) && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number < 1))
            return null;
        var cohort = await cache.GetAsync(reader.Store, group, cancellationToken);
        var ids = cohort.PatientIds;
        var pages = Math.Max(1, (ids.Count + patientsPerPage - 1) / patientsPerPage);
        if (number > pages)
            return null;
        var shown = new CohortAccumulator(keepEvents: true);
        await reader.AccumulateAsync(shown, ids.Skip((number - 1) * patientsPerPage).Take(patientsPerPage).ToList(), cancellationToken);
        return new CohortPageView(new CaseSeriesTimeline(cohort.Summary, shown.Events()), number, pages, (number - 1) * patientsPerPage);
    }

    private static int PatientsPerPage(IConfiguration configuration) =>
        configuration.GetValue<int?>(PatientsPerPageSetting) is int size && size > 0 ? size : DefaultPatientsPerPage;

    private static async Task<IResult> PatientAsync(string id, IResourceStore store, CancellationToken cancellationToken)
    {
        var resources = await new StoredCohortReader(store).PatientAsync(id, cancellationToken);
        if (resources is null)
            return NotFoundPage($"No patient with id \"{id}\" is stored.");
        var patient = CaseSeriesTimeline.Compute(resources).Patients.Single(p => p.PatientId == id);
        return Page(PatientPage.Render(patient, resources.Resources));
    }

    private static IResult GetAsset(string name)
    {
        var stream = typeof(AppEndpoints).Assembly.GetManifestResourceStream(AssetResourcePrefix + name);
        if (stream is null || !AssetTypes.TryGetValue(Path.GetExtension(name), out var contentType))
        {
            stream?.Dispose();
            return TypedResults.NotFound();
        }
        return TypedResults.Stream(stream, contentType);
    }

    private static IResult NotFoundPage(string message) =>
        Page(Document("Not found", $"<h1>Not found</h1>\n<p>{E(message)}</p>\n<p><a href=\"{CohortPath}\">Back to the case series</a></p>"), StatusCodes.Status404NotFound);
}
