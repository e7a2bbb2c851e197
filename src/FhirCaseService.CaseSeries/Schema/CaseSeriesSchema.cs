using System.Reflection;

namespace FhirCaseService.CaseSeries.Schema;

/// <summary>The JSON Schema of the case-series input format, embedded so the API and tools can serve it as it ships.</summary>
public static class CaseSeriesSchema
{
    public const string ResourceName = "FhirCaseService.CaseSeries.Schema.case-series.schema.json";

    public static Stream Open() =>
        typeof(CaseSeriesSchema).Assembly.GetManifestResourceStream(ResourceName)
        ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(CaseSeriesSchema).Assembly.GetName().Name}.");

    public static string ReadText()
    {
        using var reader = new StreamReader(Open());
        return reader.ReadToEnd();
    }
}
