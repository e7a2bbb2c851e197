namespace FhirCaseService.Storage;

/// <summary>Base of every error the store reports on purpose; the API maps each subtype to one HTTP status.</summary>
public abstract class StorageException(string message) : Exception(message);

/// <summary>If-Match failed (HTTP 412): <see cref="ActualVersion"/> is null when the resource does not exist.</summary>
public sealed class VersionConflictException(string resourceType, string id, int expectedVersion, int? actualVersion)
    : StorageException(actualVersion is null
        ? $"{resourceType}/{id} does not exist, so it cannot be at version {expectedVersion}."
        : $"{resourceType}/{id} is at version {actualVersion}, not {expectedVersion}: it changed since it was read.")
{
    public string ResourceType { get; } = resourceType;
    public string Id { get; } = id;
    public int ExpectedVersion { get; } = expectedVersion;
    public int? ActualVersion { get; } = actualVersion;
}

/// <summary>A create named an id that is already taken (HTTP 409).</summary>
public sealed class ResourceAlreadyExistsException(string resourceType, string id)
    : StorageException($"{resourceType}/{id} already exists; update it instead of creating it.")
{
    public string ResourceType { get; } = resourceType;
    public string Id { get; } = id;
}

/// <summary>The resource or request cannot be stored or run as given (HTTP 400), e.g. a malformed id.</summary>
public sealed class InvalidStorageRequestException(string message) : StorageException(message);

/// <summary>Search parameters that cannot be understood (HTTP 400); <see cref="Errors"/> names each one.</summary>
public sealed class SearchQueryException(IReadOnlyList<string> errors)
    : StorageException("The search cannot be run: " + string.Join(" ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// This process's <c>Search:SortableTokenParameters</c> are no longer the database's: another replica started with
/// another set and brought the token sort-key rows in line with it. Writes from this process would store rows for the
/// old set (a declared parameter's walk on the other replica would miss them), so they are refused until it restarts
/// with the same setting (HTTP 503; docs/storage.md, "Sortable token parameters").
/// </summary>
public sealed class SortableTokensChangedException()
    : StorageException("This server's Search:SortableTokenParameters no longer match the database's: another replica started with a different set. " +
                       "It accepts no writes until it is restarted with the same setting as the others.");

/// <summary>
/// A search or $everything the database did not finish within its command timeout (HTTP 503): the request is valid, the
/// server could not answer it in time. The message tells the client how to ask for less; details stay in the log.
/// </summary>
public sealed class SearchTimedOutException(Exception inner)
    : StorageException("The search did not finish within the database's time limit. Narrow it with more selective criteria, or ask for fewer results (_count) or no total (_total=none).")
{
    public Exception Cause { get; } = inner;
}
