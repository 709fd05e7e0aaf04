using System.CommandLine;
using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Cli;

/// <summary>
/// The command line: every command, the one place where bad input becomes exit code 2, and where a stop request
/// (<see cref="StopSignals"/>, or <c>--stop-after</c>) becomes "stopped at step N; continue with:", the command, and exit code
/// 130 or 143 (75 after <c>--stop-after</c>).
/// </summary>
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
        // The commands that train stop cleanly on SIGINT/SIGTERM (StopSignals); the others keep the default.
        using var signals = parse.CommandResult.Command.Name is "train" or "reproduce" ? new StopSignals(error, StopSignals.ContinueWith(args)) : null;
        try
        {
            if (signals is not null && StopSignals.ReadStopAfter(parse.GetValue<double?>("--stop-after")) is { } after) signals.StopAfter(after);
            // Our own handlers: a UsageException is one line and exit code 2; a stop says how to continue and exits 130/143;
            // anything else is a bug and keeps its stack trace.
            var configuration = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            return parse.InvokeAsync(configuration, signals?.Token ?? CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (signals is not null && e is RunStopped or JobsStopped or OperationCanceledException)
        {
            var where = e is OperationCanceledException ? "stopped while waiting for another process" : e.Message;
            error.WriteLine($"{(signals.Reason is { } reason ? reason + ": " : "")}{where}; continue with:");
            error.WriteLine("  " + signals.ContinueCommand);
            return signals.ExitCode;
        }
    }
}
