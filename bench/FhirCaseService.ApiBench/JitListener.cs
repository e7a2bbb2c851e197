using System.Diagnostics.Tracing;

namespace FhirCaseService.ApiBench;

/// <summary>Counts the methods the JIT compiles while it listens, by declaring type (what keeps compiling in a warm process).</summary>
internal sealed class JitListener : EventListener
{
    private readonly Dictionary<string, int> _byType = new(StringComparer.Ordinal);
    public bool Listening { get; set; }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Listening || e.EventName is not "MethodJittingStarted_V1" || e.Payload is null)
            return;
        var ns = e.PayloadNames!.IndexOf("MethodNamespace") is var i and >= 0 ? e.Payload[i] as string ?? "?" : "?";
        var name = e.PayloadNames!.IndexOf("MethodName") is var j and >= 0 ? e.Payload[j] as string ?? "?" : "?";
        lock (_byType)
            _byType[ns + "::" + name] = _byType.GetValueOrDefault(ns + "::" + name) + 1;
    }

    public string Top(int n)
    {
        lock (_byType)
            return string.Join("\n", _byType.OrderByDescending(p => p.Value).Take(n).Select(p => $"    {p.Value,6} {p.Key}"));
    }
}
