using FhirCaseService.Bench;

return await ValidationThroughput.RunAsync(args, Console.Out, Console.Error);
