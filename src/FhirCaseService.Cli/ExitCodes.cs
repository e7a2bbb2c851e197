namespace FhirCaseService.Cli;

/// <summary>The process exit codes every command uses, so CI pipelines can branch on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked and found nothing wrong.</summary>
    public const int Success = 0;

    /// <summary>The command ran but reports findings (e.g. validation errors).</summary>
    public const int Findings = 1;

    /// <summary>Wrong usage, or an input that cannot be read or understood; stderr names the file and field.</summary>
    public const int UsageOrInputError = 2;
}
