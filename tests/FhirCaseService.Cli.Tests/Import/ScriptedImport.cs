using System.Collections.Concurrent;
using FhirCaseService.Cli.Commands;
using FhirCaseService.Cli.Tests.CaseSeries;
using FhirCaseService.Cli.Tests.Export;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Cli.Tests.Import;

/// <summary>A kick-off the scripted server received: its headers and the whole body it read.</summary>
internal sealed record ReceivedImport(string? ContentType, string? Prefer, string? Expect, string? TransferEncoding, string Body);

/// <summary>
/// A $import server script for <see cref="FakeFhirServer"/>: the kick-off reads the body and answers 202 with a status
/// URL; the status URL gives <see cref="StatusAnswers"/> in turn, then a manifest with <see cref="Output"/> counts and the
/// error files in <see cref="ErrorFiles"/>. <see cref="Hook"/> answers a request its own way first.
/// </summary>
internal sealed class ScriptedImport
{
    public const string StatusPath = "/fhir/$import-status/job-1";
    public const string ErrorPrefix = "/fhir/_import-errors/";

    public ConcurrentQueue<ReceivedImport> Received { get; } = new();

    public List<(string Type, int Count)> Output { get; } = [];

    public ConcurrentDictionary<string, string> ErrorFiles { get; } = new();

    public bool RequiresAccessToken { get; set; }

    public ConcurrentQueue<Func<HttpContext, Task>> StatusAnswers { get; } = new();

    public Func<HttpContext, Task<bool>>? Hook { get; set; }

    public async Task Handle(HttpContext context, FakeFhirServer server)
    {
        if (Hook is not null && await Hook(context))
            return;
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (path == "/fhir/$import" && request.Method == "POST")
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            Received.Enqueue(new ReceivedImport(request.ContentType, request.Headers["Prefer"].FirstOrDefault(), request.Headers.Expect.FirstOrDefault(),
                request.Headers.TransferEncoding.FirstOrDefault(), body));
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.Headers.ContentLocation = server.Root.AbsoluteUri.TrimEnd('/') + StatusPath;
            return;
        }
        if (path == StatusPath && request.Method == "GET")
        {
            if (StatusAnswers.TryDequeue(out var answer))
            {
                await answer(context);
                return;
            }
            await FakeFhirServer.JsonAsync(context, Manifest(server));
            return;
        }
        if (path == StatusPath && request.Method == "DELETE")
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }
        if (path.StartsWith(ErrorPrefix, StringComparison.Ordinal) && ErrorFiles.TryGetValue(path[ErrorPrefix.Length..], out var content))
        {
            if (RequiresAccessToken && request.Headers.Authorization.Count == 0)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            await FakeFhirServer.TextAsync(context, content);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
    }

    private Dictionary<string, object> Manifest(FakeFhirServer server) => new()
    {
        ["transactionTime"] = "2026-12-05T10:00:00Z",
        ["request"] = server.Base + "/$import",
        ["requiresAccessToken"] = RequiresAccessToken,
        ["output"] = Output.Select(o => new { type = o.Type, count = o.Count }).ToList(),
        ["error"] = ErrorFiles.Keys.Order().Select(file => new
        {
            type = "OperationOutcome",
            url = server.Root.AbsoluteUri.TrimEnd('/') + ErrorPrefix + file,
            count = ErrorFiles[file].Split('\n', StringSplitOptions.RemoveEmptyEntries).Length,
        }).ToList(),
    };

    /// <summary>One error file line: an OperationOutcome refusing body line <paramref name="line"/>.</summary>
    public static string RefusedLine(int line, string diagnostics) => FakeFhirServer.OutcomeJson("error", "invalid", $"line {line}: {diagnostics}");
}

/// <summary>Runs `fhircase import` in-process with an environment of the test's own.</summary>
internal static class ImportCli
{
    public static async Task<CliRun> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var command = new ImportCommand(name => environment is not null && environment.TryGetValue(name, out var value) ? value : null, () => false);
        var exitCode = await command.RunAsync(arguments, new CliContext(stdout, stderr, workingDirectory), CancellationToken.None);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    public static Task<CliRun> RunAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, null, arguments);
}
