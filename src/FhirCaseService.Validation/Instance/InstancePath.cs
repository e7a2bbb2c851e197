using System.Globalization;
using System.Text;

namespace FhirCaseService.Validation.Instance;

/// <summary>
/// Where the walker stands in an instance, kept in two spellings at once: the FHIRPath expression reported to
/// users (indexes only on repeating elements, choice types as ofType) and the key of the source map
/// (serialized names, every step indexed) so a line and column can be found without a second walk.
/// <see cref="Entry"/> is the index of the Bundle entry the path lies in (null outside the entries of the validated
/// Bundle), carried along so an issue knows its entry without reading it back out of the expression.
/// </summary>
/// <remarks>
/// A child path is one small step object pointing at its parent; its two strings are written when first read (a
/// finding, a parser finding to place, a trial's key) and kept. The walk makes a path for every node and reads the
/// strings of very few: writing both at every node was the walk's largest allocation (issue 11). Equality and hashing
/// are by the two strings, the entry and the element path, as when the strings were the path's fields.
/// </remarks>
public readonly struct InstancePath : IEquatable<InstancePath>
{
    // Null only in default(InstancePath), whose strings read as null as they did when they were the fields.
    private readonly PathText? _text;

    public InstancePath(string expression, string sourceKey) => _text = PathText.Written(expression, sourceKey);

    private InstancePath(PathText text) => _text = text;

    /// <summary>The FHIRPath expression of the node, as reported to users.</summary>
    public string Expression
    {
        get => _text?.Expression!;
        init => _text = PathText.Written(value, _text?.SourceKey!);
    }

    /// <summary>The source map's key of the node (serialized names, every step indexed).</summary>
    public string SourceKey
    {
        get => _text?.SourceKey!;
        init => _text = PathText.Written(_text?.Expression!, value);
    }

    /// <summary>The entry of the validated Bundle this path lies in; nested Bundles keep their outer entry.</summary>
    public int? Entry { get; private init; }

    /// <summary>
    /// The path of the ElementDefinition the node was reached through ("HumanName.family", "Bundle.entry.resource"), when
    /// the walker set it: a datatype's own schema only knows its type, but rules about where an extension may sit need both.
    /// </summary>
    public string? ElementPath { get; init; }

    /// <summary>True on the root of a validated Bundle only: its entry children start the entry numbering.</summary>
    private bool NumbersEntries { get; init; }

    public static InstancePath ForResource(string resourceType) =>
        new(resourceType, resourceType) { NumbersEntries = resourceType == "Bundle" };

    /// <summary>A child element; <paramref name="choiceType"/> is the instance type when the element is a choice (value[x]).</summary>
    public InstancePath Child(string name, int index, bool repeating, string? choiceType = null)
    {
        // Only an indexed step into Bundle.entry names one entry; Bundle.entry unindexed (its cardinality) is about the Bundle.
        var entry = Entry ?? (NumbersEntries && repeating && name == "entry" ? index : null);
        return new InstancePath(PathText.Step(_text!, name, index, repeating, choiceType)) { Entry = entry };
    }

    public void Deconstruct(out string expression, out string sourceKey)
    {
        expression = Expression;
        sourceKey = SourceKey;
    }

    public bool Equals(InstancePath other) =>
        string.Equals(Expression, other.Expression, StringComparison.Ordinal) && string.Equals(SourceKey, other.SourceKey, StringComparison.Ordinal)
        && Entry == other.Entry && string.Equals(ElementPath, other.ElementPath, StringComparison.Ordinal) && NumbersEntries == other.NumbersEntries;

    public override bool Equals(object? obj) => obj is InstancePath other && Equals(other);

    public override int GetHashCode() =>
        HashCode.Combine(Hash(Expression), Hash(SourceKey), Entry, Hash(ElementPath), NumbersEntries);

    private static int Hash(string? text) => text is null ? 0 : StringComparer.Ordinal.GetHashCode(text);

    public static bool operator ==(InstancePath left, InstancePath right) => left.Equals(right);

    public static bool operator !=(InstancePath left, InstancePath right) => !left.Equals(right);

    public override string ToString() =>
        $"InstancePath {{ Expression = {Expression}, SourceKey = {SourceKey}, Entry = {Entry}, ElementPath = {ElementPath} }}";

    /// <summary>
    /// The two spellings of a path: given, or one step below a parent and written from the parent's when first read.
    /// Read by several workers at once (a big Bundle's entries share its root): two may write the same string, and
    /// either copy is kept.
    /// </summary>
    private sealed class PathText
    {
        private readonly PathText? _parent;
        private readonly string? _name;
        private readonly int _index;
        private readonly bool _repeating;
        private readonly string? _choiceType;
        private string? _expression;
        private string? _sourceKey;

        private PathText(PathText? parent, string? name, int index, bool repeating, string? choiceType, string? expression, string? sourceKey)
        {
            _parent = parent;
            _name = name;
            _index = index;
            _repeating = repeating;
            _choiceType = choiceType;
            _expression = expression;
            _sourceKey = sourceKey;
        }

        public static PathText Written(string expression, string sourceKey) => new(null, null, 0, false, null, expression, sourceKey);

        public static PathText Step(PathText parent, string name, int index, bool repeating, string? choiceType) =>
            new(parent, name, index, repeating, choiceType, null, null);

        public string Expression => _expression ??= WriteExpression();

        public string SourceKey => _sourceKey ??= WriteSourceKey();

        // A step's string is written in one builder from the nearest ancestor whose string is written; the ancestors
        // in between keep none (a finding deep in an entry does not leave a string at every step above it).
        private string WriteExpression()
        {
            var builder = new StringBuilder(128);
            AppendExpression(builder);
            return builder.ToString();
        }

        private void AppendExpression(StringBuilder builder)
        {
            if (_expression is { } written)
            {
                builder.Append(written);
                return;
            }
            _parent!.AppendExpression(builder);
            builder.Append('.').Append(_name);
            if (_repeating)
                builder.Append('[').Append(_index.ToString(CultureInfo.InvariantCulture)).Append(']');
            if (_choiceType is { } choiceType)
                builder.Append(".ofType(").Append(choiceType).Append(')');
        }

        private string WriteSourceKey()
        {
            var builder = new StringBuilder(128);
            AppendSourceKey(builder);
            return builder.ToString();
        }

        private void AppendSourceKey(StringBuilder builder)
        {
            if (_sourceKey is { } written)
            {
                builder.Append(written);
                return;
            }
            _parent!.AppendSourceKey(builder);
            builder.Append('.').Append(_name);
            if (_choiceType is { } choiceType)
                builder.Append(char.ToUpperInvariant(choiceType[0])).Append(choiceType.AsSpan(1));
            builder.Append('[').Append(_index.ToString(CultureInfo.InvariantCulture)).Append(']');
        }
    }
}
