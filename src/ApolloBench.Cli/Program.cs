using System.CommandLine;
using ApolloBench.Cli;
using ApolloBench.Core;

ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();

var root = new RootCommand("ApolloBench: reproduces 'Preparing Lessons for Progressive Training on Language Models' (Apollo) and its baselines.");
root.Subcommands.Add(TrainCommand.Build());

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"error: {parse.Errors[0].Message}");
    return 2;
}
try
{
    return parse.Invoke();
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
