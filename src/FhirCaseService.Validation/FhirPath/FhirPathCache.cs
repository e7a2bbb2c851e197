using System.Collections.Concurrent;
using FhirCaseService.Conformance.FhirPath;
using Hl7.FhirPath;

namespace FhirCaseService.Validation.FhirPath;

/// <summary>The result of compiling one FHIRPath expression: the delegate, or why it could not compile.</summary>
public sealed record CompiledFhirPath(string Expression, CompiledExpression? Compiled, string? Error)
{
    /// <summary>
    /// The expression's native evaluation over the node's POCO, for the few constraint shapes that cost the most
    /// (<see cref="NativeConstraints"/>): the engine's verdict, or null where the engine must decide. Null for most expressions.
    /// </summary>
    internal Func<Hl7.Fhir.Model.Base, bool?>? Native { get; init; }
}

/// <summary>
/// Compiles each distinct FHIRPath expression exactly once per process (Lazy inside a ConcurrentDictionary, so two
/// threads asking at once share one compilation) with the shared FHIR function set (<see cref="FhirPathCompilers"/>).
/// </summary>
public static class FhirPathCache
{
    private static readonly ConcurrentDictionary<string, Lazy<CompiledFhirPath>> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Raised with the expression each time one is compiled (on the compiling thread): once per distinct expression in the
    /// life of the process, which the tests that count compilations observe. Handlers must be cheap and must not throw.
    /// </summary>
    public static event Action<string>? ExpressionCompiled;

    public static CompiledFhirPath Get(string expression) =>
        Cache.GetOrAdd(expression, static e => new Lazy<CompiledFhirPath>(() => Compile(e))).Value;

    private static CompiledFhirPath Compile(string expression)
    {
        ExpressionCompiled?.Invoke(expression);
        try
        {
            return new CompiledFhirPath(expression, FhirPathCompilers.Fhir.Compile(expression), null) { Native = NativeConstraints.For(expression) };
        }
        // The SDK's parser throws several unrelated exception types (its parser library's, ArgumentException for an
        // unknown function...); any of them means "cannot compile", which is a finding about the profile, never a crash.
        catch (Exception e)
        {
            return new CompiledFhirPath(expression, null, e.Message);
        }
    }
}
