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
            .RequireFhirAccessToEach(ScopePermissions.Search, CaseSeriesReader.SummaryTypes)
            .RequireFhirAccess(ScopePermissions.Read, "Group");
        pages.MapGet("/swimmer.svg", SwimmerSvgAsync)
            .RequireFhirAccessToEach(ScopePermissions.Search, CaseSeriesReader.SummaryTypes)
            .RequireFhirAccess(ScopePermissions.Read, "Group");
        pages.MapGet("/patients/{id}", PatientAsync)
            .RequireFhirAccess(ScopePermissions.Read, "Patient")
            .RequireFhirAccessToEach(ScopePermissions.Search, CaseSeriesReader.SummaryTypes);
        return app;
    }

    private static async Task<IResult> CohortAsync(string? group, IResourceStore store, CancellationToken cancellationToken)
    {
        var reader = new CaseSeriesReader(store);
        var groups = await reader.GroupsAsync(cancellationToken);
        if (!TryChoose(groups, group, out var chosen))
            return NotFoundPage($"No case series (Group) with id \"{group}\" is stored.");
        return Page(CohortPage.Render(groups, chosen, await TimelineAsync(reader, chosen, cancellationToken)));
    }

    /// <summary>The cohort's plot as a standalone SVG file: the PNG download draws it, <c>?download=1</c> saves it.</summary>
    private static async Task<IResult> SwimmerSvgAsync(string? group, string? download, HttpContext context, IResourceStore store, CancellationToken cancellationToken)
    {
        var reader = new CaseSeriesReader(store);
        if (!TryChoose(await reader.GroupsAsync(cancellationToken), group, out var chosen))
            return NotFoundPage($"No case series (Group) with id \"{group}\" is stored.");
        var timeline = await TimelineAsync(reader, chosen, cancellationToken);
        var svg = SwimmerPlot.Render(timeline.Patients, $"{CohortPage.Title(chosen)}: swimmer plot", patientLink: null);
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

    private static async Task<CaseSeriesTimeline> TimelineAsync(CaseSeriesReader reader, Group? group, CancellationToken cancellationToken) =>
        CaseSeriesTimeline.Compute(group is null ? await reader.AllAsync(cancellationToken) : await reader.MembersAsync(group, cancellationToken));

    private static async Task<IResult> PatientAsync(string id, IResourceStore store, CancellationToken cancellationToken)
    {
        var resources = await new CaseSeriesReader(store).PatientAsync(id, cancellationToken);
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
