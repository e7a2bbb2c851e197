namespace FhirCaseService.TestSupport;

/// <summary>
/// The example resources (examples/resources) are one patient's consistent record: ids and references start with
/// "example-" and the pseudonym is "P01". Renaming both lets many patients made from them live in one store.
/// </summary>
public static class ExampleIds
{
    /// <summary>Every "example-" id and reference becomes "{prefix}-", the pseudonym "P01" becomes "{prefix}".</summary>
    public static string Rename(string json, string prefix) =>
        json.Replace("\"example-", $"\"{prefix}-").Replace("/example-", $"/{prefix}-").Replace("\"P01\"", $"\"{prefix}\"");
}
