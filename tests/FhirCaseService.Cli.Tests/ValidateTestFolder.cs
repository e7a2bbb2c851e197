namespace FhirCaseService.Cli.Tests;

/// <summary>A temporary folder of input files for one test, removed afterwards.</summary>
internal sealed class ValidateTestFolder : IDisposable
{
    public ValidateTestFolder()
    {
        Root = Path.Combine(Path.GetTempPath(), "fhircase-validate-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public ValidateTestFolder With(string relativePath, string content = "{\"resourceType\":\"Patient\"}")
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
