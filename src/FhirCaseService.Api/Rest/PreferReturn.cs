namespace FhirCaseService.Api.Rest;

/// <summary>What a write answers with, from <c>Prefer: return=...</c>; the resource itself when the client says nothing.</summary>
public enum PreferReturn { Representation, Minimal, OperationOutcome }

public static class PreferHeader
{
    public static PreferReturn ReturnOf(HttpRequest request)
    {
        foreach (var value in request.Headers["Prefer"])
        {
            foreach (var part in (value ?? "").Split([',', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!part.StartsWith("return=", StringComparison.OrdinalIgnoreCase))
                    continue;
                return part["return=".Length..].Trim('"') switch
                {
                    var v when v.Equals("minimal", StringComparison.OrdinalIgnoreCase) => PreferReturn.Minimal,
                    var v when v.Equals("OperationOutcome", StringComparison.OrdinalIgnoreCase) => PreferReturn.OperationOutcome,
                    _ => PreferReturn.Representation,
                };
            }
        }
        return PreferReturn.Representation;
    }
}
