using FhirCaseService.Validation.Engine;
using FhirCaseService.Validation.Instance;
using Hl7.Fhir.Model;

namespace FhirCaseService.Validation.Schema;

/// <summary>One node of the instance being checked against one compiled element.</summary>
/// <param name="Resource">The resource the node belongs to (%resource in FHIRPath).</param>
public readonly record struct ElementVisit(PocoNode Node, InstancePath Path, PocoNode Resource, ValidationRun Run)
{
    /// <summary>%rootResource: the container of a contained resource, otherwise the resource itself (a Bundle entry is its own root).</summary>
    public PocoNode RootResource => RootOf(Resource);

    public static PocoNode RootOf(PocoNode resource)
    {
        var node = resource;
        while (node.Name == "contained" && node.Parent is { } container)
            node = container;
        return node;
    }
}

/// <summary>A check of a single instance node against one rule of an ElementDefinition. Immutable and thread-safe.</summary>
public interface IElementValidator
{
    void Validate(in ElementVisit visit);
}

/// <summary>The repetitions of one element (or of one slice) under one parent node: what a group rule judges.</summary>
/// <param name="Count">How many repetitions the parent holds.</param>
/// <param name="ParentPath">The node that holds them, where a group finding is reported.</param>
public readonly record struct SiblingGroup(int Count, InstancePath ParentPath, ValidationRun Run);

/// <summary>A check of the group of siblings one element definition describes (cardinality). Immutable and thread-safe.</summary>
public interface IGroupValidator
{
    void Validate(in SiblingGroup group);
}
