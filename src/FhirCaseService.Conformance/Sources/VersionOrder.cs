namespace FhirCaseService.Conformance.Sources;

/// <summary>Orders dotted version strings numerically where the parts are numbers ("2.10" after "2.7").</summary>
internal static class VersionOrder
{
    public static int Compare(string? left, string? right)
    {
        if (left is null || right is null)
        {
            return left is null ? (right is null ? 0 : -1) : 1;
        }
        var leftParts = left.Split('.');
        var rightParts = right.Split('.');
        for (var i = 0; i < Math.Max(leftParts.Length, rightParts.Length); i++)
        {
            var l = i < leftParts.Length ? leftParts[i] : "0";
            var r = i < rightParts.Length ? rightParts[i] : "0";
            var order = int.TryParse(l, out var ln) && int.TryParse(r, out var rn)
                ? ln.CompareTo(rn)
                : string.CompareOrdinal(l, r);
            if (order != 0)
            {
                return order;
            }
        }
        return 0;
    }
}
