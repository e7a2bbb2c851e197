using System.Collections;
using Hl7.Fhir.Model;

namespace FhirCaseService.Storage.Indexing;

/// <summary>
/// A search parameter expression of the plain shapes most core parameters have, evaluated by walking the POCO instead
/// of through the FHIRPath engine (which costs tens of microseconds per expression and was the largest CPU item of a
/// write's preparation in issue 11's profile): a union of branches, each <c>Type.a.b.c</c> (Type: the resource's own, or
/// <c>Resource</c>/<c>DomainResource</c> as in <c>Resource.meta.tag</c>), where a step may be a type
/// filter (<c>(Type.a.b as Kind).c</c> or <c>Type.a.b.as(Kind)</c>), optionally ending in
/// <c>.where(resolve() is Target)</c>. A step may also keep the elements whose code equals a literal
/// (<c>Patient.telecom.where(system='email')</c>, <c>X.relatedArtifact.where(type='depends-on').resource</c>), and a whole
/// expression may be <c>X.a.exists() and X.a != false</c> (<c>Patient.deceased</c>: true for any value but false).
/// <see cref="TryParse"/> accepts nothing else, so every other expression keeps its compiled FHIRPath; where an instance
/// holds a value those two shapes were not written for (a code filter meeting an element that is not a string-like
/// primitive, a deceased without a value), <see cref="Evaluate"/> answers null and the indexer asks FHIRPath for that
/// instance. A Kind is a FHIR complex type (a value of it or of a type derived from it passes, as FHIRPath's
/// type test) or a FHIR primitive type in its own lower-case name (a value of exactly that type passes: the choice
/// elements the core parameters filter never offer two primitive types of which one derives from the other).
/// FHIRPath's <c>|</c> drops values equal to one another; for a union the indexer drops equal index entries instead
/// (<see cref="IsUnion"/>), which can only leave out a row that repeats another row of the same version exactly, so no
/// search answers differently. ResourceIndexerTests checks the entries against FHIRPath's for every core parameter over
/// the examples, and over instances of every choice type those filters pick.
/// </summary>
internal sealed class SimplePath
{
    private readonly Branch[] _branches;

    private SimplePath(Branch[] branches) => _branches = branches;

    /// <summary>More than one branch: the indexer removes duplicate entries, as FHIRPath's union removes equal values.</summary>
    public bool IsUnion => _branches.Length > 1;

    /// <summary>The fast path of an expression (already narrowed to <paramref name="resourceType"/>) split into its top-level union branches, or null.</summary>
    public static SimplePath? TryParse(string resourceType, IReadOnlyList<string> branches)
    {
        if (branches.Count == 1 && ParseExistsAndNotFalse(resourceType, branches[0].Trim()) is { } truth)
            return new SimplePath([truth]);
        var parsed = new List<Branch>(branches.Count);
        foreach (var text in branches)
        {
            if (ParseBranch(resourceType, text.Trim()) is not { } branch)
                return null;
            parsed.Add(branch);
        }
        return parsed.Count == 0 ? null : new SimplePath([.. parsed]);
    }

    /// <summary>"X.a.exists() and X.a != false" over one plain path (both sides the same): a branch answering one boolean.</summary>
    private static Branch? ParseExistsAndNotFalse(string resourceType, string expression)
    {
        const string exists = ".exists() and ";
        const string notFalse = " != false";
        var and = expression.IndexOf(exists, StringComparison.Ordinal);
        if (and < 0 || !expression.EndsWith(notFalse, StringComparison.Ordinal))
            return null;
        var path = expression[..and];
        if (expression[(and + exists.Length)..^notFalse.Length] != path)
            return null;
        var steps = new List<Step>();
        return TryPath(resourceType, path, steps) ? new Branch([.. steps], null, ExistsAndNotFalse: true) : null;
    }

    private static Branch? ParseBranch(string resourceType, string branch)
    {
        string? target = null;
        const string where = ".where(resolve() is ";
        var filter = branch.IndexOf(where, StringComparison.Ordinal);
        if (filter >= 0)
        {
            if (!branch.EndsWith(')'))
                return null;
            target = branch[(filter + where.Length)..^1];
            if (!ModelInfo.IsKnownResource(target))
                return null;
            branch = branch[..filter];
        }
        var steps = new List<Step>();
        string rest;
        if (branch.StartsWith('('))
        {
            // "(Type.a.b as Kind)" and what follows it.
            var close = branch.IndexOf(')');
            if (close < 0)
                return null;
            var inner = branch[1..close].Trim();
            rest = branch[(close + 1)..];
            var asAt = inner.IndexOf(" as ", StringComparison.Ordinal);
            if (asAt < 0 || !TryPath(resourceType, inner[..asAt].Trim(), steps) || Kind(inner[(asAt + 4)..].Trim()) is not { } kind)
                return null;
            steps.Add(kind);
        }
        else
        {
            var function = FirstFunction(branch);
            rest = function < 0 ? "" : branch[function..];
            if (!TryPath(resourceType, function < 0 ? branch : branch[..function], steps))
                return null;
        }
        // Then any of ".name" and ".as(Kind)".
        while (rest.Length > 0)
        {
            if (rest[0] != '.')
                return null;
            if (rest.StartsWith(".where(", StringComparison.Ordinal))
            {
                var close = rest.IndexOf(')');
                if (close < 0 || CodeFilter(rest[7..close]) is not { } codeFilter)
                    return null;
                steps.Add(codeFilter);
                rest = rest[(close + 1)..];
                continue;
            }
            if (rest.StartsWith(".as(", StringComparison.Ordinal))
            {
                var close = rest.IndexOf(')');
                if (close < 0 || Kind(rest[4..close].Trim()) is not { } kind)
                    return null;
                steps.Add(kind);
                rest = rest[(close + 1)..];
                continue;
            }
            var end = rest.IndexOf('.', 1);
            var name = end < 0 ? rest[1..] : rest[1..end];
            if (!IsElementName(name))
                return null;
            steps.Add(new Step(name, null, Exact: false));
            rest = end < 0 ? "" : rest[end..];
        }
        return new Branch([.. steps], target);
    }

    /// <summary>Where the first ".as(" or ".where(" of a branch starts; -1 for none.</summary>
    private static int FirstFunction(string branch)
    {
        var a = branch.IndexOf(".as(", StringComparison.Ordinal);
        var w = branch.IndexOf(".where(", StringComparison.Ordinal);
        return a < 0 ? w : w < 0 ? a : Math.Min(a, w);
    }

    /// <summary>"name='literal'" (a where() of the core parameters: a code compared with a literal without quotes or escapes in it).</summary>
    private static Step? CodeFilter(string condition)
    {
        var equals = condition.IndexOf('=');
        if (equals < 0)
            return null;
        var name = condition[..equals].Trim();
        var literal = condition[(equals + 1)..].Trim();
        if (!IsElementName(name) || literal.Length < 2 || literal[0] != '\'' || literal[^1] != '\'')
            return null;
        literal = literal[1..^1];
        return literal.Length == 0 || literal.Any(c => c is '\'' or '\\') ? null : new Step(name, null, Exact: false, Literal: literal);
    }

    /// <summary>"Type.a.b.c" as its element steps, when it starts at <paramref name="resourceType"/>.</summary>
    private static bool TryPath(string resourceType, string path, List<Step> steps)
    {
        var segments = path.Split('.');
        if (segments.Length < 2 || !IsRoot(resourceType, segments[0]))
            return false;
        for (var i = 1; i < segments.Length; i++)
        {
            if (!IsElementName(segments[i]))
                return false;
            steps.Add(new Step(segments[i], null, Exact: false));
        }
        return true;
    }

    /// <summary>
    /// The type an expression starts from: the resource's own, or a base every resource of it is (the parameters of all
    /// resources, <c>Resource.meta.tag</c> and the like, which FHIRPath evaluates on the resource itself).
    /// </summary>
    private static bool IsRoot(string resourceType, string name) =>
        name == resourceType || name == "Resource"
        || (name == "DomainResource" && ModelInfo.GetTypeForFhirType(resourceType) is { } clr && typeof(DomainResource).IsAssignableFrom(clr));

    /// <summary>A type filter: a complex type (upper case: it or a derived type) or a primitive type by its own name (exactly it).</summary>
    private static Step? Kind(string name)
    {
        if (name.Length == 0 || !char.IsAsciiLetter(name[0]) || ModelInfo.GetTypeForFhirType(name) is not { } clr)
            return null;
        if (char.IsAsciiLetterUpper(name[0]))
            return new Step(null, clr, Exact: false);
        return ModelInfo.IsPrimitive(name) ? new Step(null, clr, Exact: true) : null;
    }

    /// <summary>A lower-case FHIR element name (no function, no choice suffix, no keyword of FHIRPath's).</summary>
    private static bool IsElementName(string segment) =>
        segment.Length > 0 && char.IsAsciiLetterLower(segment[0]) && segment.All(char.IsAsciiLetterOrDigit)
        && segment is not ("as" or "is" or "and" or "or" or "xor" or "implies" or "div" or "mod" or "in" or "contains" or "true" or "false");

    /// <summary>The expression's values on <paramref name="resource"/>; null when this instance needs FHIRPath (see the class).</summary>
    public List<Base>? Evaluate(Resource resource)
    {
        var result = new List<Base>();
        foreach (var branch in _branches)
        {
            var current = new List<Base> { resource };
            foreach (var step in branch.Steps)
            {
                if (step.Literal is { } literal)
                {
                    // "where(name = 'literal')": FHIRPath's = of one string with one string; an empty side is empty (dropped),
                    // and more than one value is unequal to a single literal.
                    var kept = new List<Base>(current.Count);
                    foreach (var node in current)
                    {
                        if (!node.TryGetValue(step.Name!, out var value) || value is null)
                            continue;
                        if (value is not PrimitiveType code)
                        {
                            if (value is IEnumerable and not string && Children(value).Count == 0)
                                continue;
                            return null;
                        }
                        if (!IsStringLike(code))
                            return null;
                        if (code.JsonValue is string text && text == literal)
                            kept.Add(node);
                    }
                    current = kept;
                }
                else if (step.Kind is { } kind)
                {
                    // "x as Kind": the values of that type (or one derived from it, for a complex type).
                    current.RemoveAll(node => step.Exact ? node.GetType() != kind : !kind.IsInstanceOfType(node));
                }
                else
                {
                    var next = new List<Base>();
                    foreach (var node in current)
                    {
                        if (!node.TryGetValue(step.Name!, out var value) || value is null)
                            continue;
                        if (value is Base single)
                            next.Add(single);
                        else if (value is IEnumerable items)
                            foreach (var item in items)
                                if (item is Base element)
                                    next.Add(element);
                    }
                    current = next;
                }
                if (current.Count == 0)
                    break;
            }
            if (branch.Target is { } target)
                current.RemoveAll(node => !Resolves(node, target));
            if (branch.ExistsAndNotFalse)
            {
                // "a.exists() and a != false": false when a is empty; a boolean's own value; true for any other value
                // (a dateTime is never equal to false). A value FHIRPath may see otherwise (a boolean or dateTime
                // without a value, several values) is left to FHIRPath.
                switch (current)
                {
                    case []:
                        return [new FhirBoolean(false)];
                    case [FhirBoolean { Value: { } flag }]:
                        return [new FhirBoolean(flag)];
                    case [FhirDateTime { Value: not null }]:
                        return [new FhirBoolean(true)];
                    default:
                        return null;
                }
            }
            result.AddRange(current);
        }
        return result;
    }

    /// <summary>A primitive FHIRPath reads as a System.String (a code of any binding, string, uri, id, ...), not a date or number.</summary>
    private static bool IsStringLike(PrimitiveType value) =>
        value is Code or FhirString or FhirUri or Id or Markdown or Canonical or FhirUrl or Oid or Uuid
        || (value.GetType().IsGenericType && value.GetType().GetGenericTypeDefinition() == typeof(Code<>));

    private static List<Base> Children(object value)
    {
        var children = new List<Base>();
        foreach (var item in (IEnumerable)value)
            if (item is Base element)
                children.Add(element);
        return children;
    }

    /// <summary>What <c>resolve() is Target</c> answers in <see cref="ResourceIndexer"/>: the type the literal reference names.</summary>
    private static bool Resolves(Base node, string target)
    {
        var literal = node switch
        {
            ResourceReference r => r.Reference,
            PrimitiveType { JsonValue: string s } => s,
            _ => null,
        };
        return literal is not null && ReferenceParser.Split(literal).Type == target;
    }

    /// <summary>
    /// A step: the children named <see cref="Name"/>, or the values of type <see cref="Kind"/> (exactly it when
    /// <see cref="Exact"/>), or with a <see cref="Literal"/> the values whose child <see cref="Name"/> equals it.
    /// </summary>
    private sealed record Step(string? Name, Type? Kind, bool Exact, string? Literal = null);

    /// <param name="ExistsAndNotFalse">the branch answers "steps.exists() and steps != false" (one boolean).</param>
    private sealed record Branch(Step[] Steps, string? Target, bool ExistsAndNotFalse = false);
}
