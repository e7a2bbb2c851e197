namespace FhirCaseService.Api.Startup;

/// <summary>What the service does when it starts, bound from the "Startup" section.</summary>
public sealed class StartupOptions
{
    public const string Section = "Startup";

    /// <summary>Load the examples' case series when the database is empty, so a first run shows real data at once.</summary>
    public bool LoadExamples { get; set; } = true;
}
