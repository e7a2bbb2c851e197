using FhirCaseService.Cli;

// Ctrl-C cancels the running command instead of killing the process, so commands can say how to resume
// (fhircase export keeps its state and picks up where it stopped). A second Ctrl-C ends the process at once.
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancellation.IsCancellationRequested)
        return;
    e.Cancel = true;
    cancellation.Cancel();
};
return await CliApp.RunAsync(args, Console.Out, Console.Error, cancellation.Token);
