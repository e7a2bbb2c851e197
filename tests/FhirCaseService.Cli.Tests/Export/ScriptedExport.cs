using System.Collections.Concurrent;
using FhirCaseService.Cli.Commands;
using FhirCaseService.Cli.Tests.CaseSeries;
using Microsoft.AspNetCore.Http;

namespace FhirCaseService.Cli.Tests.Export;

/// <summary>
/// A Bulk Data server script for <see cref="FakeFhirServer"/>: kick-off answers 202 with a status URL; the status URL
/// gives <see cref="StatusAnswers"/> in turn, then the manifest of <see cref="Output"/> and <see cref="Errors"/>; files
/// are served from <see cref="Files"/>. Hooks let a test answer any request its own way first.
/// </summary>
internal sealed class ScriptedExport
{
    public const string StatusPath = "/fhir/_jobs/1";
    public const string FilePrefix = "/fhir/_files/";

    public ConcurrentDictionary<string, string> Files { get; } = new();

    public List<(string Type, string File, int Count)> Output { get; } = [];

    public List<string> Errors { get; } = [];

    public bool RequiresAccessToken { get; set; }

    public string TransactionTime { get; set; } = "2026-11-26T10:00:00Z";

    /// <summary>Answers given to status polls before the manifest (e.g. 202 with Retry-After); dequeued one per poll.</summary>
    public ConcurrentQueue<Func<HttpContext, Task>> StatusAnswers { get; } = new();

    /// <summary>Runs first for every request; returns true when it has answered.</summary>
    public Func<HttpContext, Task<bool>>? Hook { get; set; }

    /// <summary>How often each file was asked for.</summary>
    public ConcurrentDictionary<string, int> FileRequests { get; } = new();

    public async Task Handle(HttpContext context, FakeFhirServer server)
    {
        if (Hook is not null && await Hook(context))
            return;
        var path = context.Request.Path.Value ?? "";
        if (path.EndsWith("/$export", StringComparison.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.Headers.ContentLocation = server.Root.AbsoluteUri.TrimEnd('/') + StatusPath;
            return;
        }
        if (path == StatusPath && context.Request.Method == "DELETE")
        {
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }
        if (path == StatusPath)
        {
            if (StatusAnswers.TryDequeue(out var answer))
            {
                await answer(context);
                return;
            }
            await FakeFhirServer.JsonAsync(context, Manifest(server));
            return;
        }
        if (path.StartsWith(FilePrefix, StringComparison.Ordinal) && Files.TryGetValue(path[FilePrefix.Length..], out var content))
        {
            FileRequests.AddOrUpdate(path[FilePrefix.Length..], 1, (_, n) => n + 1);
            await FakeFhirServer.TextAsync(context, content);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
    }

    public object Manifest(FakeFhirServer server)
    {
        string Url(string file) => server.Root.AbsoluteUri.TrimEnd('/') + FilePrefix + file;
        return new Dictionary<string, object>
        {
            ["transactionTime"] = TransactionTime,
            ["request"] = server.Base + "/$export",
            ["requiresAccessToken"] = RequiresAccessToken,
            ["output"] = Output.Select(o => new { type = o.Type, url = Url(o.File), count = o.Count }).ToList(),
            ["error"] = Errors.Select(e => new { type = "OperationOutcome", url = Url(e) }).ToList(),
        };
    }

    /// <summary>Adds an output file of <paramref name="count"/> minimal resources of the type.</summary>
    public ScriptedExport WithOutput(string type, string file, int count)
    {
        Files[file] = string.Concat(Enumerable.Range(1, count).Select(i => $"{{\"resourceType\":\"{type}\",\"id\":\"{Path.GetFileNameWithoutExtension(file)}-{i}\"}}\n"));
        Output.Add((type, file, count));
        return this;
    }

    public ScriptedExport WithErrorFile(string file, params string[] outcomes)
    {
        Files[file] = string.Concat(outcomes.Select(o => o + "\n"));
        Errors.Add(file);
        return this;
    }

    public static Func<HttpContext, Task> InProgress(string? progress = null, int? retryAfterSeconds = null) => context =>
    {
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        if (progress is not null)
            context.Response.Headers["X-Progress"] = progress;
        if (retryAfterSeconds is { } seconds)
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.CompletedTask;
    };
}

/// <summary>Runs `fhircase export` (and `validate`) in-process with an environment of the test's own.</summary>
internal static class ExportCli
{
    public static async Task<CliRun> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var command = new ExportCommand(name => environment is not null && environment.TryGetValue(name, out var value) ? value : null, () => false);
        var exitCode = await command.RunAsync(arguments, new CliContext(stdout, stderr, workingDirectory), CancellationToken.None);
        return new CliRun(exitCode, stdout.ToString(), stderr.ToString());
    }

    public static Task<CliRun> RunAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, null, arguments);
}
