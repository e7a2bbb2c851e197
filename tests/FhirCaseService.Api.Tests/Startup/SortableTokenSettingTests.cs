using FhirCaseService.Api.Startup;
using FhirCaseService.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FhirCaseService.Api.Tests.Startup;

/// <summary>"Search:SortableTokenParameters" reaches the storage options as a list or as one comma-separated value (an environment variable).</summary>
public sealed class SortableTokenSettingTests
{
    [Fact]
    public void The_setting_is_read_as_a_list_or_as_one_comma_separated_value_and_is_empty_by_default()
    {
        Assert.Equal(["Observation.status", "_tag"], Bound(new()
        {
            ["Search:SortableTokenParameters:0"] = "Observation.status",
            ["Search:SortableTokenParameters:1"] = "_tag",
        }));
        Assert.Equal(["Observation.status", "_tag"], Bound(new() { ["Search:SortableTokenParameters"] = "Observation.status, _tag" }));
        Assert.Empty(Bound(new() { ["Storage:Provider"] = "Sqlite" }));
    }

    private static List<string> Bound(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddFhirCaseRest();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<StorageOptions>>().Value.SortableTokenParameters;
    }
}
