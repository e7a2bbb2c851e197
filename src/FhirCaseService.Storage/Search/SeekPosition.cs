using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace FhirCaseService.Storage.Search;

/// <summary>
/// The last match of a sorted page, as the index walk (<see cref="OrderedWalk"/>) ordered it: its sort value and
/// resource id. The next page seeks past it (keyset paging), so page N reads about as many index rows as page 1.
/// <see cref="Kind"/> says which value the walk ordered by; a position that does not fit the query's walk is ignored
/// (the cursor's offset is used), never trusted.
/// </summary>
public sealed record SeekPosition(SeekPosition.Kinds Kind, string ResourceId, long Number = 0, string? Text = null)
{
    public enum Kinds
    {
        /// <summary>Ordered by id alone (no _sort, _sort=_id).</summary>
        Id,

        /// <summary>By a number: lastUpdated, or a date's least/greatest instant (<see cref="Number"/>).</summary>
        Number,

        /// <summary>By a string or token sort key (<see cref="Text"/>).</summary>
        Text,

        /// <summary>Among the matches without a value for the sort key, which come last, by id.</summary>
        Missing,
    }

    /// <summary>Base64url of "kind|id|value": ids never hold '|', the value (last) may hold anything.</summary>
    public override string ToString()
    {
        var value = Kind switch
        {
            Kinds.Number => Number.ToString(CultureInfo.InvariantCulture),
            Kinds.Text => Text ?? "",
            _ => "",
        };
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{(int)Kind}|{ResourceId}|{value}"));
    }

    public static bool TryParse(string text, out SeekPosition? position)
    {
        position = null;
        if (text.Length == 0 || text.Length > 4096 || !Base64Url.IsValid(text))
            return false;
        string payload;
        try
        {
            payload = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(text));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
        var parts = payload.Split('|', 3);
        if (parts.Length != 3 || parts[1].Length == 0
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kind) || !Enum.IsDefined((Kinds)kind))
            return false;
        switch ((Kinds)kind)
        {
            case Kinds.Number:
                if (!long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                    return false;
                position = new SeekPosition(Kinds.Number, parts[1], number);
                return true;
            case Kinds.Text:
                position = new SeekPosition(Kinds.Text, parts[1], Text: parts[2]);
                return true;
            default:
                position = parts[2].Length == 0 ? new SeekPosition((Kinds)kind, parts[1]) : null;
                return position is not null;
        }
    }
}
