using FhirCaseService.Cli.Validate;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateInputsTests : IDisposable
{
    private readonly ValidateTestFolder _folder = new ValidateTestFolder()
        .With("examples/bundles/b.json")
        .With("examples/bundles/a.json")
        .With("examples/bundles/notes.txt", "not FHIR")
        .With("examples/invalid/x.xml", "<Patient xmlns=\"http://hl7.org/fhir\"/>")
        .With("examples/invalid/deep/y.ndjson")
        .With("examples/.hidden/z.json")
        .With("docs/readme.txt", "text");

    public void Dispose() => _folder.Dispose();

    private ValidateInputExpansion Expand(params string[] arguments) => ValidateInputs.Expand(arguments, _folder.Root);

    [Fact]
    public void Directory_expands_recursively_to_fhir_files_in_ordinal_order_skipping_hidden_folders()
    {
        var expansion = Expand("examples");

        Assert.Empty(expansion.Errors);
        Assert.Equal(
            ["examples/bundles/a.json", "examples/bundles/b.json", "examples/invalid/deep/y.ndjson", "examples/invalid/x.xml"],
            expansion.Files.Select(f => f.DisplayPath));
        Assert.Equal(
            [ValidateInputKind.Json, ValidateInputKind.Json, ValidateInputKind.Ndjson, ValidateInputKind.Xml],
            expansion.Files.Select(f => f.Kind));
    }

    [Fact]
    public void Recursive_glob_matches_across_folders()
    {
        var expansion = Expand("examples/**/*.json");

        Assert.Equal(["examples/bundles/a.json", "examples/bundles/b.json"], expansion.Files.Select(f => f.DisplayPath));
    }

    [Fact]
    public void Single_star_glob_stays_within_one_folder()
    {
        var expansion = Expand("examples/*/*.xml", "examples/*.json");

        Assert.Equal(["examples/invalid/x.xml"], expansion.Files.Select(f => f.DisplayPath));
        Assert.Equal(["examples/*.json: no .json, .xml or .ndjson file matches this pattern"], expansion.Errors);
    }

    [Fact]
    public void Glob_matching_a_folder_takes_the_fhir_files_below_it()
    {
        var expansion = Expand("examples/b*", "examples/in*/deep");

        Assert.Equal(["examples/bundles/a.json", "examples/bundles/b.json", "examples/invalid/deep/y.ndjson"], expansion.Files.Select(f => f.DisplayPath));
    }

    [Fact]
    public void Explicit_file_is_taken_whatever_its_extension_and_its_content_decides_the_kind()
    {
        var expansion = Expand("./examples/bundles/notes.txt");

        var file = Assert.Single(expansion.Files);
        Assert.Equal("examples/bundles/notes.txt", file.DisplayPath);
        Assert.Equal(ValidateInputKind.Unknown, file.Kind);
    }

    [Fact]
    public void A_file_named_twice_is_validated_once_at_its_first_mention()
    {
        var expansion = Expand("examples/bundles/b.json", "examples/bundles");

        Assert.Equal(["examples/bundles/b.json", "examples/bundles/a.json"], expansion.Files.Select(f => f.DisplayPath));
    }

    [Fact]
    public void Missing_path_and_folder_without_fhir_files_are_errors()
    {
        var expansion = Expand("nope.json", "docs");

        Assert.Equal(
            ["nope.json: no such file or directory", "docs: directory has no .json, .xml or .ndjson file"],
            expansion.Errors);
    }
}
