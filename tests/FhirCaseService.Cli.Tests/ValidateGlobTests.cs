using FhirCaseService.Cli.Validate;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateGlobTests
{
    [Theory]
    [InlineData("*.json", "a.json", true)]
    [InlineData("*.json", "sub/a.json", false)]
    [InlineData("**/*.json", "a.json", true)]
    [InlineData("**/*.json", "x/y/z/a.json", true)]
    [InlineData("**/*.json", "x/a.xml", false)]
    [InlineData("x/**/a.json", "a.json", true)]
    [InlineData("x/**/a.json", "1/2/a.json", true)]
    [InlineData("x/**/a.json", "1/b.json", false)]
    [InlineData("case-??.json", "case-01.json", true)]
    [InlineData("case-??.json", "case-1.json", false)]
    [InlineData("*-bad*", "mrd-bad-percent.json", true)]
    [InlineData("a*b*c", "abxbc", true)]
    [InlineData("a*b*c", "abxbd", false)]
    [InlineData("*/*.xml", "d/a.xml", true)]
    public void Pattern_matches_paths_relative_to_its_base(string pattern, string relativePath, bool matches) =>
        Assert.Equal(matches, ValidateGlob.Parse(pattern).Matches(relativePath));

    [Theory]
    [InlineData("examples/**/*.json", "examples")]
    [InlineData("examples/bundles/*.json", "examples/bundles")]
    [InlineData("*.json", "")]
    [InlineData(@"examples\invalid\*.json", "examples/invalid")]
    public void Base_directory_is_the_part_before_the_first_wildcard(string pattern, string baseDirectory) =>
        Assert.Equal(baseDirectory, ValidateGlob.Parse(pattern).BaseDirectory);
}
