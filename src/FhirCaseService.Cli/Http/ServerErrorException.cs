namespace FhirCaseService.Cli.Http;

/// <summary>
/// The server (or its token endpoint) answered something the command cannot go on with. The message is complete and
/// meant for stderr (it carries the status and the OperationOutcome's issues); the command exits 2.
/// </summary>
public sealed class ServerErrorException(string message, Exception? inner = null) : Exception(message, inner);
