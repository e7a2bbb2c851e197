using FhirCaseService.Api.Tests;
using Microsoft.Playwright;

namespace FhirCaseService.Browser.Tests;

/// <summary>The service on Kestrel with the paper's case series loaded, as <c>dotnet run</c> starts it in Development.</summary>
public sealed class ExamplesServiceHost(IReadOnlyDictionary<string, string?>? settings = null)
    : ServiceHost(new SqliteTestDatabase(), new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Startup:LoadExamples"] = "true" });

/// <summary>
/// One headless Chromium and one service for the tests of a class; each test opens its own page. Pages record what the
/// browser reports (console errors, CSP violations, uncaught exceptions) so that every test can demand none.
/// </summary>
public class BrowserSession : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public BrowserSession()
        : this(null)
    {
    }

    /// <param name="settings">settings of the service beyond loading the examples.</param>
    protected BrowserSession(IReadOnlyDictionary<string, string?>? settings) => Service = new ExamplesServiceHost(settings);

    public ExamplesServiceHost Service { get; }

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests save their screenshots (one of each is committed under docs/ for the README).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        await Service.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = SystemChromium.ExecutablePath,
            Headless = true,
            // Root (CI) cannot use Chromium's sandbox.
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    public async Task<ObservedPage> OpenAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Service.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
        });
        return await ObservedPage.CreateAsync(context);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
        await Service.DisposeAsync();
    }
}

/// <summary>A page with everything the browser complained about, for the tests to assert there was nothing.</summary>
public sealed class ObservedPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _problems = [];

    private ObservedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
    }

    public IPage Page { get; }

    public static async Task<ObservedPage> CreateAsync(IBrowserContext context)
    {
        // Reported before any page script runs; Playwright injects it outside the page's CSP.
        await context.AddInitScriptAsync(
            "window.__cspViolations = [];" +
            "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));");
        var observed = new ObservedPage(context, await context.NewPageAsync());
        observed.Page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
                observed._problems.Add($"console {message.Type}: {message.Text} ({message.Location})");
        };
        observed.Page.PageError += (_, error) => observed._problems.Add($"uncaught: {error}");
        observed.Page.RequestFailed += (_, request) => observed._problems.Add($"request failed: {request.Url} {request.Failure}");
        return observed;
    }

    /// <summary>Console errors and warnings, uncaught exceptions, failed requests and CSP violations so far.</summary>
    public async Task<IReadOnlyList<string>> ProblemsAsync()
    {
        var violations = await Page.EvaluateAsync<string[]>("() => window.__cspViolations");
        return [.. _problems, .. violations.Select(v => $"CSP violation: {v}")];
    }

    public Task ScreenshotAsync(string name) =>
        Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserSession.ScreenshotDirectory, name), FullPage = true });

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
