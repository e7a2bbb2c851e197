using FhirCaseService.Cli.Validate;
using FhirCaseService.Cli.Output;

namespace FhirCaseService.Cli.Tests;

public sealed class ValidateArgumentsTests
{
    [Fact]
    public void Defaults_are_text_output_failing_on_errors()
    {
        var parsed = ValidateArguments.Parse(["a.json"], out var error);

        Assert.Null(error);
        Assert.Equal(new[] { "a.json" }, parsed!.Inputs);
        Assert.Equal("text", parsed.Format);
        Assert.Equal(FailThreshold.Error, parsed.FailOn);
        Assert.False(parsed.Quiet);
    }

    [Fact]
    public void Profile_and_package_repeat_and_options_take_inline_values()
    {
        var parsed = ValidateArguments.Parse(
            ["--profile", "https://a/p1", "x.json", "--profile=https://a/p2", "--package", "pkg.tgz", "--format=sarif", "--fail-on", "warning", "-q", "dir"],
            out _);

        Assert.Equal(new[] { "x.json", "dir" }, parsed!.Inputs);
        Assert.Equal(new[] { "https://a/p1", "https://a/p2" }, parsed.Profiles);
        Assert.Equal(new[] { "pkg.tgz" }, parsed.Packages);
        Assert.Equal("sarif", parsed.Format);
        Assert.Equal(FailThreshold.Warning, parsed.FailOn);
        Assert.True(parsed.Quiet);
    }

    [Theory]
    [InlineData(new[] { "--format", "html", "a.json" }, "--format must be one of text, json, junit, sarif (got 'html')")]
    [InlineData(new[] { "--fail-on", "information", "a.json" }, "--fail-on must be error or warning (got 'information')")]
    [InlineData(new[] { "--format", "json", "--format", "text", "a.json" }, "option --format given more than once")]
    [InlineData(new[] { "a.json", "--profile" }, "option --profile needs a value")]
    [InlineData(new[] { "--strict", "a.json" }, "unknown option --strict")]
    [InlineData(new[] { "--quiet" }, "no files given: name files, directories or glob patterns to validate")]
    public void Bad_command_lines_are_usage_errors_that_say_what_is_wrong(string[] arguments, string message)
    {
        var parsed = ValidateArguments.Parse(arguments, out var error);

        Assert.Null(parsed);
        Assert.Equal(message, error);
    }
}
