using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using FhirCaseService.Conformance.Serialization;
using FhirCaseService.Validation.FhirPath;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema;

/// <summary>
/// Renders a compiled <see cref="StructureSchema"/> as indented JSON, the same bytes for the same schema in every process:
/// each element's path, cardinality, types, slicing and the validators it carries with their parameters. The golden
/// tests compare these dumps with checked-in files, so any change to what a profile compiles into shows as a diff.
/// </summary>
/// <remarks>
/// Validators are rendered from their own state (instance fields, read by reflection) rather than by serialization code
/// in each of them: a validator stays one small concern, and one added later is dumped with every parameter the day it
/// is added, so a golden file cannot silently leave a rule out. Values whose order is not stable across processes (sets,
/// dictionaries) are sorted; FHIR values are written with the shared FHIR serializer, FHIRPath expressions as their text, native short-cuts as "(native)"; a value of a type the dump does not
/// know is written as its type name, so it is at least visible.
/// </remarks>
public static class SchemaDump
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Nesting limit for validator parameters (a validator holding validators holding values...); deeper is a bug in the dump's input.</summary>
    private const int MaxParameterDepth = 12;

    public static string ToJson(StructureSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            writer.WriteStartObject();
            writer.WriteString("canonical", schema.Canonical);
            WriteIfNotNull(writer, "version", schema.Version);
            writer.WriteString("type", schema.Type);
            writer.WriteString("kind", schema.Kind);
            if (schema.Placement is { } placement)
            {
                writer.WritePropertyName("placement");
                WriteCompiled(writer, placement, "Validator", depth: 0);
            }
            writer.WritePropertyName("root");
            WriteElement(writer, schema.Root);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <param name="discriminatorTests">For a slice: the compiled tests that assign a repetition to it.</param>
    private static void WriteElement(Utf8JsonWriter writer, ElementSchema element, IReadOnlyList<Slicing.DiscriminatorTest>? discriminatorTests = null)
    {
        writer.WriteStartObject();
        writer.WriteString("id", element.Id);
        writer.WriteString("path", element.Path);
        WriteIfNotNull(writer, "sliceName", element.SliceName);
        if (discriminatorTests is not null)
        {
            writer.WriteStartArray("discriminatorTests");
            foreach (var test in discriminatorTests)
                WriteCompiled(writer, test, "Test", depth: 0);
            writer.WriteEndArray();
        }
        writer.WriteString("cardinality", element.Cardinality.Text);
        if (element.IsModifier)
            writer.WriteBoolean("isModifier", true);
        if (element.MustSupport)
            writer.WriteBoolean("mustSupport", true);
        WriteIfNotNull(writer, "contentReference", element.ContentReference);
        if (element.Types.Count > 0)
        {
            writer.WriteStartArray("types");
            foreach (var type in element.Types)
                WriteType(writer, type);
            writer.WriteEndArray();
        }
        if (element.Validators.Count > 0)
        {
            writer.WriteStartArray("validators");
            foreach (var validator in element.Validators)
                WriteValidator(writer, validator, depth: 0);
            writer.WriteEndArray();
        }
        if (element.Slicing is { } slicing)
        {
            writer.WriteStartObject("slicing");
            writer.WriteStartArray("discriminators");
            foreach (var discriminator in slicing.Discriminators)
            {
                writer.WriteStartObject();
                writer.WriteString("type", discriminator.Kind.ToString());
                writer.WriteString("path", discriminator.Path);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("rules", slicing.Rules.ToString());
            writer.WriteBoolean("ordered", slicing.Ordered);
            writer.WriteStartArray("slices");
            foreach (var slice in slicing.CompiledSlices)
                WriteElement(writer, slice.Element, slice.Tests);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        if (element.Children.Count > 0)
        {
            writer.WriteStartArray("children");
            foreach (var child in element.Children)
                WriteElement(writer, child);
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private static void WriteType(Utf8JsonWriter writer, TypeReference type)
    {
        // A type without profiles, targets or aggregation is written as its code alone: most elements have one such type.
        if (type.Profiles.Count == 0 && type.TargetProfiles.Count == 0 && type.Reference is null or { IsUnconstrained: true })
        {
            writer.WriteStringValue(type.Code);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("code", type.Code);
        WriteStrings(writer, "profiles", type.Profiles);
        // A Reference's targets are written as compiled (core types, profiles, aggregation), which includes the list itself.
        if (type.Reference is { IsUnconstrained: false } reference)
        {
            writer.WritePropertyName("reference");
            WriteCompiled(writer, reference, "Validator", depth: 0);
        }
        else
        {
            WriteStrings(writer, "targetProfiles", type.TargetProfiles);
        }
        writer.WriteEndObject();
    }

    private static void WriteValidator(Utf8JsonWriter writer, IElementValidator validator, int depth) => WriteCompiled(writer, validator, "Validator", depth);

    /// <summary>A compiled validator or test: its kind (the class name less <paramref name="suffix"/>) and its fields.</summary>
    private static void WriteCompiled(Utf8JsonWriter writer, object compiled, string suffix, int depth)
    {
        writer.WriteStartObject();
        var name = compiled.GetType().Name;
        writer.WriteString("kind", name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length ? name[..^suffix.Length] : name);
        WriteFields(writer, compiled, depth);
        writer.WriteEndObject();
    }

    /// <summary>The object's instance fields (its parameters and what it derived from them), by name in ordinal order.</summary>
    private static void WriteFields(Utf8JsonWriter writer, object value, int depth)
    {
        var fields = new List<(string Name, FieldInfo Field)>();
        for (var type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                fields.Add((ParameterName(field.Name), field));
        }
        foreach (var (name, field) in fields.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (IsDerivedView(field.FieldType))
                continue;
            writer.WritePropertyName(name);
            WriteValue(writer, field.GetValue(value), depth + 1);
        }
    }

    /// <summary>Types that only hold another field's content in another shape (a node view of a FHIR value): rendering them would repeat it.</summary>
    private static bool IsDerivedView(Type type) => typeof(PocoNode).IsAssignableFrom(type);

    /// <summary>"_maxLength" and "&lt;Key&gt;k__BackingField" both become the parameter's name, camel-cased.</summary>
    private static string ParameterName(string fieldName)
    {
        var name = fieldName;
        if (name.StartsWith('<') && name.IndexOf('>', StringComparison.Ordinal) is var end and > 1)
            name = name[1..end];
        name = name.TrimStart('_');
        return name.Length == 0 ? fieldName : char.ToLowerInvariant(name[0]) + name[1..];
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, int depth)
    {
        if (depth > MaxParameterDepth)
            throw new InvalidOperationException($"A validator's parameters nest deeper than {MaxParameterDepth} levels; the schema dump cannot render them.");
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return;
            case string text:
                writer.WriteStringValue(text);
                return;
            case bool flag:
                writer.WriteBooleanValue(flag);
                return;
            case int or long or short or byte or uint or ulong or ushort or decimal or double or float:
                writer.WriteRawValue(Convert.ToString(value, CultureInfo.InvariantCulture)!);
                return;
            case Enum:
                writer.WriteStringValue(value.ToString());
                return;
            // A compiled expression is named by its text; one that did not compile also says why.
            case CompiledFhirPath { Error: null } path:
                writer.WriteStringValue(path.Expression);
                return;
            case CompiledFhirPath path:
                writer.WriteStartObject();
                writer.WriteString("expression", path.Expression);
                writer.WriteString("error", path.Error);
                writer.WriteEndObject();
                return;
            // A delegate is native code chosen at compile time (a short-cut for a known constraint): that there is one is the parameter.
            case Delegate:
                writer.WriteStringValue("(native)");
                return;
            case Regex regex:
                writer.WriteStringValue(regex.ToString());
                return;
            case Base fhirValue:
                using (var document = JsonDocument.Parse(FhirSerialization.ToJsonBytes(fhirValue)))
                    document.RootElement.WriteTo(writer);
                return;
            // How the path is followed is what compilation decided about it.
            case Slicing.DiscriminatorPath path:
                writer.WriteStringValue(path.Path is "$this" or "" ? "self" : (path.IsDirect ? "children: " : "fhirpath: ") + path.Path);
                return;
            case IElementValidator nested:
                WriteValidator(writer, nested, depth);
                return;
            // Elements are written where the tree has them; elsewhere they are named, which also keeps cycles out.
            case ElementSchema element:
                writer.WriteStringValue("element " + element.Id);
                return;
            case StructureSchema structure:
                writer.WriteStringValue("structure " + structure.Canonical);
                return;
            case System.Runtime.CompilerServices.ITuple tuple:
                writer.WriteStartArray();
                for (var i = 0; i < tuple.Length; i++)
                    WriteValue(writer, tuple[i], depth + 1);
                writer.WriteEndArray();
                return;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (var key in dictionary.Keys.Cast<object>().Select(k => Convert.ToString(k, CultureInfo.InvariantCulture) ?? "").Order(StringComparer.Ordinal))
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, LookUp(dictionary, key), depth + 1);
                }
                writer.WriteEndObject();
                return;
            case IEnumerable items:
                writer.WriteStartArray();
                var list = items.Cast<object?>();
                if (IsSet(value.GetType()))
                    list = list.OrderBy(i => Convert.ToString(i, CultureInfo.InvariantCulture), StringComparer.Ordinal);
                foreach (var item in list)
                    WriteValue(writer, item, depth + 1);
                writer.WriteEndArray();
                return;
        }
        var type = value.GetType();
        // Our own small records and classes (CompiledFhirPath...) are written field by field like validators.
        if (type.Namespace?.StartsWith("FhirCaseService.", StringComparison.Ordinal) == true)
        {
            writer.WriteStartObject();
            WriteFields(writer, value, depth);
            writer.WriteEndObject();
            return;
        }
        writer.WriteStringValue(TypeName(type));
    }

    private static object? LookUp(IDictionary dictionary, string key)
    {
        foreach (DictionaryEntry entry in dictionary)
        {
            if (Convert.ToString(entry.Key, CultureInfo.InvariantCulture) == key)
                return entry.Value;
        }
        return null;
    }

    /// <summary>Hash sets iterate in an order that depends on string hashing, which differs from process to process.</summary>
    private static bool IsSet(Type type) =>
        type.GetInterfaces().Any(i => i.IsGenericType && (i.GetGenericTypeDefinition() == typeof(ISet<>) || i.GetGenericTypeDefinition() == typeof(IReadOnlySet<>)));

    private static string TypeName(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(TypeName))}>"
        : type.Name;

    private static void WriteIfNotNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
            writer.WriteString(name, value);
    }

    private static void WriteStrings(Utf8JsonWriter writer, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
            return;
        writer.WriteStartArray(name);
        foreach (var value in values)
            writer.WriteStringValue(value);
        writer.WriteEndArray();
    }
}
