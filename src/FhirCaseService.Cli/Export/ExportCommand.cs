using FhirCaseService.Cli.Auth;
using FhirCaseService.Cli.Export;
using FhirCaseService.Cli.Http;

namespace FhirCaseService.Cli.Commands;

/// <summary>
/// `fhircase export`: a registry's pull of a population over Bulk Data $export into a folder of NDJSON files, resumable
/// after any interruption. Exit 0 when the export completed clean, 1 when the server reported errors (error files with
/// error or fatal issues), 2 on a usage error, a server that refuses or fails, or a folder that cannot be written.
/// </summary>
public sealed class ExportCommand(Func<string, string?> environment, Func<bool> errorIsTerminal) : ICliCommand
{
    /// <summary>The real command: token from the process environment, progress redrawn in place only on a terminal.</summary>
    public ExportCommand()
        : this(Environment.GetEnvironmentVariable, () => !Console.IsErrorRedirected)
    {
    }

    public string Name => "export";

    public System.CommandLine.Command Grammar => ExportArguments.Grammar;

    public string Summary => "pull resources from a FHIR server with Bulk Data $export into a folder of NDJSON files";

    public string Usage => """
        usage: fhircase export --server URL -o DIR [--type T1,T2]... [--since INSTANT] [--group ID]
                               [--type-filter "Type?query"]... [--poll-interval SECONDS] [--timeout SECONDS]
                               [--restart] [--quiet]
                               [--token TOKEN | --client-id ID --key KEY.pem [--key-id KID] [--scope SCOPES] [--token-url URL]]

        Starts a Bulk Data $export ([base]/$export, or [base]/Group/ID/$export with --group), polls the job (as
        often as the server's Retry-After says, else every --poll-interval seconds, default 2), and downloads every
        file into DIR: <Type>.<n>.ndjson, the server's error files as OperationOutcome.<n>.ndjson, and manifest.json
        (the server's manifest; written last). Then tells the server the files may be deleted.
          --type T1,T2        only these resource types (repeatable)
          --since INSTANT     only resources changed after this instant, e.g. the previous export's transactionTime
          --group ID          the members of Group/ID (e.g. a case series) and their data
          --type-filter Q     a search per type, e.g. "Observation?code=http://loinc.org|51124-6" (repeatable)
          --timeout SECONDS   give up after this long (the export can be resumed); default: wait as long as it takes
          --quiet, -q         no progress on stderr
        Resuming: DIR/.fhircase-export-state.json records the job and the files downloaded. Running the same command
        again after an interruption (Ctrl-C, crash, lost network) polls the same job or downloads only the files still
        missing; after a complete export it changes nothing. A different request in the same DIR is refused unless
        --restart, which discards the recorded export (and cancels its job) and starts anew.
        Authorization: --token TOKEN or the FHIRCASE_TOKEN environment variable (a bearer token), or SMART Backend
        Services: --client-id and --key (an RSA or EC P-384 private key PEM; signs RS384 or ES384 assertions),
        --key-id (default: the key's JWK thumbprint), --scope (default system/*.rs), --token-url (default: the
        token_endpoint of [base]/.well-known/smart-configuration). Files are fetched with the token only when the
        manifest says requiresAccessToken.
        `fhircase validate DIR` then validates the export (manifest.json and the state file are skipped).

        Exit codes: 0 export complete and clean, 1 complete but the server reported errors (listed on stdout),
        2 usage error, server refusal or failure (its OperationOutcome on stderr), or DIR cannot be used.
        """;

    public async Task<int> RunAsync(IReadOnlyList<string> arguments, CliContext context, CancellationToken cancellationToken)
    {
        var parsed = ExportArguments.Parse(arguments, environment, out var usageError);
        if (parsed is null)
        {
            await context.Error.WriteLineAsync($"fhircase export: {usageError}").ConfigureAwait(false);
            await context.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        ClientSigningKey? key;
        try
        {
            key = await parsed.Authentication.LoadKeyAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            await context.Error.WriteLineAsync($"fhircase export: --key {parsed.Authentication.KeyPath}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.UsageOrInputError;
        }

        var directory = context.ResolvePath(parsed.OutputDirectory);
        var progress = new ExportProgress(context.Error, errorIsTerminal(), parsed.Quiet);
        using var http = CliHttpClient.Create();
        using (key)
        {
            var tokens = parsed.Authentication.CreateTokenSource(key, http, new Uri(parsed.Request.Server));
            var client = new BulkExportClient(new AuthorizedHttpClient(http, tokens), progress, parsed.PollInterval, TimeProvider.System);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parsed.Timeout is { } timeout)
                deadline.CancelAfter(timeout);

            ExportResult result;
            try
            {
                result = await new ExportRun(client, progress, directory).RunAsync(parsed.Request, parsed.Restart, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return Fail(progress, cancellationToken.IsCancellationRequested
                    ? $"interrupted; run the same command again to resume from {ExportState.PathIn(directory)}"
                    : $"gave up after --timeout {parsed.Timeout!.Value.TotalSeconds:0.###} s; run the same command again to resume");
            }
            catch (Exception e) when (e is ServerErrorException or ExportFolderException or InvalidDataException)
            {
                return Fail(progress, e.Message);
            }
            catch (HttpRequestException e)
            {
                return Fail(progress, $"cannot reach {parsed.Request.Server}: {e.Message}; run the same command again to resume");
            }
            catch (TaskCanceledException e) when (e.InnerException is TimeoutException)
            {
                return Fail(progress, $"the server did not answer within {CliHttpClient.RequestTimeout.TotalSeconds:0} s; run the same command again to resume");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(progress, $"cannot write {directory}: {e.Message}");
            }
            progress.Finish();
            return await ReportAsync(result, directory, context, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>stdout: what was exported, what was deleted (incremental exports), the server's errors (exit 1 when any is an error), and the next incremental --since.</summary>
    private static async Task<int> ReportAsync(ExportResult result, string directory, CliContext context, CancellationToken cancellationToken)
    {
        var output = result.Files.Where(f => f.Kind == ExportFileKind.Output).ToList();
        var total = output.Sum(f => f.Source.Count ?? 0);
        var writer = context.Out;
        await writer.WriteLineAsync($"exported {total} resources in {output.Count} files to {directory} (transactionTime {result.Manifest.TransactionTime})").ConfigureAwait(false);
        var width = result.Files.Select(f => f.Name.Length).DefaultIfEmpty(0).Max();
        foreach (var file in output)
            await writer.WriteLineAsync($"  {file.Name.PadRight(width)}  {file.Source.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}").ConfigureAwait(false);
        // An incremental export's deletions: the registry applies them as the transaction Bundles they are.
        var deleted = result.Files.Where(f => f.Kind == ExportFileKind.Deleted).ToList();
        if (deleted.Count > 0)
        {
            await writer.WriteLineAsync($"deleted since --since: {deleted.Sum(f => f.Source.Count ?? 0)} resource(s), as DELETE Bundles in {deleted.Count} files").ConfigureAwait(false);
            foreach (var file in deleted)
                await writer.WriteLineAsync($"  {file.Name.PadRight(width)}  {file.Source.Count?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}").ConfigureAwait(false);
        }

        var errorCount = 0;
        foreach (var file in result.Files.Where(f => f.Kind == ExportFileKind.Error))
        {
            var lineNumber = 0;
            foreach (var line in await File.ReadAllLinesAsync(Path.Combine(directory, file.Name), cancellationToken).ConfigureAwait(false))
            {
                lineNumber++;
                foreach (var issue in ServerResponses.Issues(line))
                {
                    if (issue.IsError)
                        errorCount++;
                    await writer.WriteLineAsync($"{file.Name}:{lineNumber}: {issue}").ConfigureAwait(false);
                }
            }
        }
        if (errorCount > 0)
            await writer.WriteLineAsync($"the server reported {errorCount} error(s) while exporting; the export is incomplete").ConfigureAwait(false);
        await writer.WriteLineAsync($"next incremental export: --since {result.Manifest.TransactionTime}").ConfigureAwait(false);
        return errorCount > 0 ? ExitCodes.Findings : ExitCodes.Success;
    }

    private static int Fail(ExportProgress progress, string message)
    {
        progress.Message($"fhircase export: {message}");
        return ExitCodes.UsageOrInputError;
    }
}
