using Hl7.Fhir.Model;
using Microsoft.Extensions.DependencyInjection;
using Task = System.Threading.Tasks.Task;

namespace FhirCaseService.Storage.Tests;

public sealed class CompositionTests
{
    [Fact]
    public async Task AddFhirCaseStorage_gives_one_store_that_creates_its_sqlite_file_under_the_data_directory()
    {
        var directory = new TemporaryDirectory("fhircase-storage-tests");
        var services = new ServiceCollection().AddFhirCaseStorage(o => o.DataDirectory = directory.Path).BuildServiceProvider();
        try
        {
            var store = services.GetRequiredService<IResourceStore>();
            Assert.Same(store, services.GetRequiredService<IResourceStore>());

            await store.CreateAsync(new Patient { Id = "di" });

            Assert.True(File.Exists(Path.Combine(directory.Path, "fhircase.db")));
            Assert.Equal(ReadStatus.Found, (await store.ReadAsync("Patient", "di")).Status);
        }
        finally
        {
            await services.DisposeAsync();
            directory.Delete();
        }
    }

    [Fact]
    public async Task PostgreSql_without_a_connection_string_is_refused_with_the_setting_to_fix()
    {
        var options = new StorageOptions { Provider = StorageProvider.PostgreSql };
        var error = await Assert.ThrowsAsync<InvalidStorageRequestException>(() => Persistence.ResourceStoreFactory.OpenAsync(options));
        Assert.Contains("Storage:ConnectionString", error.Message);
    }
}
