using FhirCaseService.Bench;

// "scaling [sizes...]": time against input size; otherwise throughput over a folder of files.
return args.Length > 0 && args[0] == "scaling"
    ? await ValidationScaling.RunAsync(args[1..], Console.Out, Console.Error)
    : await ValidationThroughput.RunAsync(args, Console.Out, Console.Error);
