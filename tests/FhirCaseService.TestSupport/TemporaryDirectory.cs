namespace FhirCaseService.TestSupport;

/// <summary>A fresh directory under the system's temporary folder for one test database or host, removed afterwards.</summary>
public sealed class TemporaryDirectory
{
    /// <param name="purpose">the parent folder's name (e.g. "fhircase-api-tests"), so leftovers tell whose they are.</param>
    public TemporaryDirectory(string purpose) =>
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), purpose, Guid.NewGuid().ToString("N"));

    /// <summary>The directory; created by whoever writes to it first (the service creates its data directory itself).</summary>
    public string Path { get; }

    public void Delete()
    {
        // SQLite's connection pool may still hold a file for a moment after a store or host stops.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(Path))
                Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary directory is harmless; the tests' verdict does not depend on it.
        }
    }
}
