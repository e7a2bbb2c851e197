using System.Text;
using FhirCaseService.TestSupport;

namespace FhirCaseService.Validation.Tests.Schema;

/// <summary>
/// Compares a document with its checked-in golden copy and fails with the lines that differ. With
/// <c>FHIRCASE_UPDATE_GOLDEN=1</c> the golden copy is rewritten instead (then review the diff in git and commit it).
/// </summary>
internal static class GoldenFile
{
    public const string UpdateVariable = "FHIRCASE_UPDATE_GOLDEN";

    private const int ContextLines = 3;
    private const int MaxShownLines = 40;

    public static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <param name="relativePath">Path from the repository root, '/' separated.</param>
    public static void AssertMatches(string relativePath, string actual)
    {
        var path = RepositoryRoot.Combine(relativePath.Split('/'));
        actual = Normalize(actual);
        if (Updating)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }
        if (!File.Exists(path))
            Assert.Fail($"There is no golden file {relativePath}. Run the tests with {UpdateVariable}=1 to write it, then review and commit it.");
        var expected = Normalize(File.ReadAllText(path));
        if (expected != actual)
            Assert.Fail($"{relativePath} differs from what was produced now (- golden, + now). If the change is intended, run the tests with {UpdateVariable}=1 and commit the new file.\n{Diff(expected, actual)}");
    }

    /// <summary>Git may check text out with CRLF line ends on some machines; the content is what is compared.</summary>
    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    /// <summary>The region between the common first and last lines, with a little context and line numbers: linear in size and enough to read a change.</summary>
    internal static string Diff(string expected, string actual)
    {
        var before = expected.Split('\n');
        var after = actual.Split('\n');
        var prefix = 0;
        while (prefix < before.Length && prefix < after.Length && before[prefix] == after[prefix])
            prefix++;
        var suffix = 0;
        while (suffix < before.Length - prefix && suffix < after.Length - prefix && before[^(suffix + 1)] == after[^(suffix + 1)])
            suffix++;

        var text = new StringBuilder();
        var start = Math.Max(0, prefix - ContextLines);
        text.Append("@@ golden line ").Append(prefix + 1).Append(", now line ").Append(prefix + 1).Append(" @@\n");
        for (var i = start; i < prefix; i++)
            text.Append("  ").Append(before[i]).Append('\n');
        AppendChanged(text, '-', before, prefix, before.Length - suffix);
        AppendChanged(text, '+', after, prefix, after.Length - suffix);
        for (var i = after.Length - suffix; i < Math.Min(after.Length, after.Length - suffix + ContextLines); i++)
            text.Append("  ").Append(after[i]).Append('\n');
        return text.ToString();
    }

    private static void AppendChanged(StringBuilder text, char marker, string[] lines, int from, int to)
    {
        for (var i = from; i < to && i < from + MaxShownLines; i++)
            text.Append(marker).Append(' ').Append(lines[i]).Append('\n');
        if (to - from > MaxShownLines)
            text.Append(marker).Append(" ... ").Append(to - from - MaxShownLines).Append(" more lines\n");
    }
}
