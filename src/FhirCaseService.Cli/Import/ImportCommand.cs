using System.Globalization;
using System.Text.RegularExpressions;
using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Http;
using FhirCaseService.Cli.Import;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase import`: an EHR's initial load or a registry's re-load through $import. Sends every file as one NDJSON
/// stream (one job, one manifest, one set of counts), waits for the job, prints the counts and every refused line with
/// the file and line it came from. Exit 0 when every line was loaded, 1 when the server refused some, 2 on a usage
/// error, an unreadable input, or a server that cannot be reached, refuses the import or fails the job.
/// </summary>
public sealed partial class ImportCommand(Func<string, string?> environment, Func<bool> errorIsTerminal) : ICliCommand
{
    /// <summary>The real command: token from the process environment, progress redrawn in place only on a terminal.</summary>
    public ImportCommand()
        : this(Environment.GetEnvironmentVariable, () => !Console.IsErrorRedirected)
    {
    }

    public string Name => "import";

    public System.CommandLine.Command Grammar => ImportArguments.Grammar;

    public string Summary => "load NDJSON files and Bundles into a FHIR server with $import and report refused lines";

    public string Usage => """
        usage: fhircase import <files|dirs...> --server URL [--poll-interval SECONDS] [--timeout SECONDS] [--quiet]
                               [--token TOKEN | --client-id ID --key KEY.pem [--key-id KID] [--scope SCOPES] [--token-url URL]]

        Sends the files to [base]/$import (POST, Content-Type application/fhir+ndjson, Prefer: respond-async) as one
        NDJSON stream, written while it is sent: *.ndjson and *.jsonl files line by line (blank lines dropped), any other
        file as one FHIR JSON resource, a Bundle as one line per entry resource. Folders are searched recursively for
        *.ndjson and *.json (hidden files skipped; JSON files that are no FHIR resource, such as an export's
        manifest.json, skipped with a note). Then polls the job (as often as Retry-After says, else every
        --poll-interval seconds, default 2), prints the resources loaded per type and, from the manifest's error files,
        every refused line as file:line (or file Bundle.entry[i]) with the server's diagnostics.
          --timeout SECONDS   give up after this long and cancel the job; default: wait as long as it takes
          --quiet, -q         no progress on stderr
        The server loads every valid line (create or update by id; identical content makes no new version), so running
        the same import again after an interruption or a fix changes nothing already loaded. Ctrl-C cancels the job.
        Authorization as for `fhircase export`: --token TOKEN or FHIRCASE_TOKEN, or SMART Backend Services with
        --client-id and --key (default --scope system/*.cu).

        Exit codes: 0 every line loaded, 1 the server refused some lines (listed on stdout), 2 usage error, unreadable
        input, server unreachable, import refused (401, 403, 415, ...) or job failed (the server's message on stderr).
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = ImportArguments.Parse(arguments, environment, out var usageError);
        if (parsed is null)
        {
            await context.Error.WriteLineAsync($"fhircase import: {usageError}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var inputs = ImportInputs.Expand(parsed.Inputs, context.WorkingDirectory);
        foreach (var error in inputs.Errors)
            await context.Error.WriteLineAsync($"fhircase import: {error}").ConfigureAwait(false);
        if (inputs.Errors.Count > 0)
            return ExitCodes.UsageOrInputError;
        if (inputs.Files.Count == 0)
        {
            await context.Error.WriteLineAsync($"fhircase import: no FHIR resource among the files found (first skipped: {inputs.Skipped[0]})").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        ClientSigningKey? key;
        try
        {
            key = await parsed.Authentication.LoadKeyAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            await context.Error.WriteLineAsync($"fhircase import: --key {parsed.Authentication.KeyPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var progress = new ImportProgress(context.Error, errorIsTerminal(), parsed.Quiet);
        if (inputs.Skipped.Count > 0 && !parsed.Quiet)
            progress.Message($"fhircase import: skipped {inputs.Skipped.Count} JSON file(s) found by search that hold no FHIR resource (first: {inputs.Skipped[0]})");
        using var http = CliHttpClient.Create();
        using (key)
        {
            var client = new BulkImportClient(
                new AuthorizedHttpClient(http, parsed.Authentication.CreateTokenSource(key, http, parsed.Server)), progress, parsed.PollInterval, TimeProvider.System);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parsed.Timeout is { } timeout)
                deadline.CancelAfter(timeout);

            Uri? statusUrl = null;
            try
            {
                (statusUrl, var lines) = await client.KickOffAsync(parsed.Server, inputs.Files, deadline.Token).ConfigureAwait(false);
                progress.Milestone($"import started; job status at {statusUrl}");
                var manifestJson = await client.WaitForManifestAsync(statusUrl, deadline.Token).ConfigureAwait(false);
                var manifest = ImportManifest.Parse(manifestJson, statusUrl);
                progress.Finish();
                return await ReportAsync(client, manifest, lines, context, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                var why = cancellationToken.IsCancellationRequested ? "interrupted" : $"gave up after --timeout {parsed.Timeout!.Value.TotalSeconds:0.###} s";
                if (statusUrl is null)
                    return Fail(progress, $"{why} while sending; nothing was started");
                using var cancelWithin = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.CancelAsync(statusUrl, cancelWithin.Token).ConfigureAwait(false);
                return Fail(progress, $"{why}; asked the server to cancel the job {statusUrl} (lines it committed stay; running the import again is safe)");
            }
            catch (Exception e) when (e is ServerErrorException or FormatException)
            {
                return Fail(progress, e.Message);
            }
            catch (HttpRequestException e)
            {
                return Fail(progress, $"cannot reach {parsed.Server}: {e.Message}");
            }
            catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
            {
                return Fail(progress, $"the server did not answer within {CliHttpClient.RequestTimeout.TotalSeconds:0} s");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                return Fail(progress, $"cannot read the input files: {e.Message}");
            }
        }
    }

    /// <summary>stdout: the counts per type, then every refused line as file:line with the server's diagnostics.</summary>
    private static async Task<int> ReportAsync(BulkImportClient client, ImportManifest manifest, ImportLineMap lines, CliContext context, CancellationToken cancellationToken)
    {
        var writer = context.Out;
        var total = manifest.Output.Sum(o => o.Count);
        await writer.WriteLineAsync($"imported {total} of {lines.LineCount} resources (transactionTime {manifest.TransactionTime})").ConfigureAwait(false);
        var byType = manifest.Output.GroupBy(o => o.Type).Select(g => (Type: g.Key, Count: g.Sum(o => o.Count))).OrderBy(t => t.Type, StringComparer.Ordinal).ToList();
        var width = byType.Select(t => t.Type.Length).DefaultIfEmpty(0).Max();
        foreach (var (type, count) in byType)
            await writer.WriteLineAsync($"  {type.PadRight(width)}  {count.ToString(CultureInfo.InvariantCulture)}").ConfigureAwait(false);

        // Each line of an error file is the OperationOutcome of one refused input line, however many issues it holds.
        var refused = 0;
        foreach (var url in manifest.ErrorFiles)
        {
            await foreach (var line in client.ReadLinesAsync(url, manifest.RequiresAccessToken, cancellationToken).ConfigureAwait(false))
            {
                var issues = ServerResponses.Issues(line);
                if (issues.Any(issue => issue.IsError))
                    refused++;
                foreach (var issue in issues)
                    await writer.WriteLineAsync(Locate(issue, lines)).ConfigureAwait(false);
            }
        }
        if (refused > 0)
            await writer.WriteLineAsync($"the server refused {refused} line(s); fix them and run the import again (lines already loaded are not duplicated)").ConfigureAwait(false);
        return refused > 0 ? ExitCodes.Findings : ExitCodes.Success;
    }

    /// <summary>"patients.ndjson:17: error invalid: Patient.gender ..." from the server's "line 17: ..." diagnostics.</summary>
    private static string Locate(OutcomeIssue issue, ImportLineMap lines)
    {
        if (issue.Diagnostics is { } diagnostics && LinePrefix().Match(diagnostics) is { Success: true } match
            && long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var bodyLine)
            && lines.Describe(bodyLine) is { } location)
            return $"{location}: {issue with { Diagnostics = diagnostics[match.Length..] }}";
        return issue.ToString();
    }

    private static int Fail(ImportProgress progress, string message)
    {
        progress.Message($"fhircase import: {message}");
        return ExitCodes.UsageOrInputError;
    }

    [GeneratedRegex(@"^line (\d+):\s*")]
    private static partial Regex LinePrefix();
}
