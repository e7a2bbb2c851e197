namespace FhirCaseService.BenchSupport;

/// <summary>How busy the machine is: bench reports print it, since other work shares the cores.</summary>
public static class MachineLoad
{
    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, or "n/a" where there is none.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
