using System.CommandLine;
using ApolloBench.Core;

namespace ApolloBench.Cli;

/// <summary>The command line: every command, and the one place where bad input becomes exit code 2.</summary>
public static class CliApp
{
    public const int UsageError = 2;

    public static int Run(string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
        var root = new RootCommand("ApolloBench: reproduces 'Preparing Lessons for Progressive Training on Language Models' (Apollo) and its baselines.");
        root.Subcommands.Add(TrainCommand.Build());
        foreach (var command in ExperimentCommands.Build()) root.Subcommands.Add(command);
        root.Subcommands.Add(FinetuneCommand.Build());
        root.Subcommands.Add(ScalesCommand.Build());
        root.Subcommands.Add(PublishCommand.Build());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            error.WriteLine($"error: {parse.Errors[0].Message}");
            return UsageError;
        }
        try
        {
            // Our own handler: a UsageException is one line and exit code 2; anything else is a bug and keeps its stack trace.
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
    }
}
